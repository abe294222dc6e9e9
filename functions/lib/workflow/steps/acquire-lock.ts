import { z } from "zod";
import { runSchema } from "../run.ts";
import { acquireRunLocks } from "../run-locks.ts";
import { defineStep } from "../step.ts";

export const acquireLock = defineStep({
  task: "AcquireLock",
  input: z.object({ run: runSchema }),
  async run({ run }, deps) {
    const repository = await deps.openRepository(run.request.pair);
    const outcome = await acquireRunLocks(repository, run, deps.now);
    if (!outcome.acquired) {
      deps.log.warn("another run holds the lock", {
        lock: outcome.lock,
        heldBy: outcome.heldBy,
        until: outcome.until,
      });
    }
    return outcome;
  },
});
