import { z } from "zod";
import { runSchema } from "../run.ts";
import { releaseRunLocks } from "../run-locks.ts";
import { defineStep } from "../step.ts";

export const releaseLock = defineStep({
  task: "ReleaseLock",
  input: z.object({ run: runSchema }),
  async run({ run }, deps) {
    await releaseRunLocks(await deps.openRepository(run.request.pair), run, deps.now);
    return { released: true };
  },
});
