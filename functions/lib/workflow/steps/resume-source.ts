import { z } from "zod";
import { namespacesOn, switchSide } from "../cutover/activation-sides.ts";
import { connectPair, withClients } from "../pair-access.ts";
import { cutoverRunSchema } from "../run.ts";
import { defineStep } from "../step.ts";

/**
 * The cutover's compensation (rejected, approval timed out, or any failure after the
 * quiesce): the destination goes back to standby — a no-op unless it was activated — and only
 * then the source's workloads are scaled back to their remembered replicas and its CronJobs
 * resumed, so the two never run at once.
 */
export const resumeSource = defineStep({
  task: "ResumeSource",
  input: z.object({ run: cutoverRunSchema }),
  async run({ run }, deps) {
    const { pair, source, destination } = await connectPair(deps, run.request.pair);
    const { selector } = run.request;
    return withClients([source, destination], async () => {
      await switchSide(destination, namespacesOn("destination", pair, run), "deactivate", selector);
      const resumed = await switchSide(source, namespacesOn("source", pair, run), "activate", selector);
      return { cluster: source.name, resumed };
    });
  },
});
