import { type CutoverStatus, cutoverPublishInputSchema, cutoverResult } from "../cutover/result.ts";
import { cutoverDetailTypes } from "../events.ts";
import { defineStep } from "../step.ts";

const detailTypes: Record<CutoverStatus, string> = {
  Started: cutoverDetailTypes.Started,
  Successful: cutoverDetailTypes.Succeeded,
  Rejected: cutoverDetailTypes.Rejected,
  // A gate nobody answered needs a person as much as a failure does.
  TimedOut: cutoverDetailTypes.Failed,
  Failed: cutoverDetailTypes.Failed,
};

/** Publishes Cutover Started / Succeeded / Rejected / Failed with the result: downtime, verified volumes, whether the source was started again. */
export const publishCutover = defineStep({
  task: "PublishCutover",
  input: cutoverPublishInputSchema,
  async run(input, deps) {
    const result = cutoverResult(input, deps.now());
    await deps.publish(detailTypes[result.status], { ...result });
    return result;
  },
});
