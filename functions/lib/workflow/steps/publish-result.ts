import { ManifestMissing } from "../../repository/errors.ts";
import { resultDetailTypes } from "../events.ts";
import { metricNames } from "../metrics.ts";
import { publishInputSchema, type RunResult, runResult } from "../run-result.ts";
import { defineStep } from "../step.ts";
import type { StepDeps } from "../step-deps.ts";

/**
 * Publishes Migration Started / Succeeded / Failed on the kubeferry bus (a partial success is
 * published as Failed, with its status in the detail: it needs a person), records the final
 * status in the run record, and emits the run's figures as CloudWatch metrics.
 */
export const publishResult = defineStep({
  task: "PublishResult",
  input: publishInputSchema,
  async run(input, deps) {
    const result = runResult(input, deps.now());
    if (result.status === "Skipped") {
      deps.log.warn("run skipped", { reason: result.error });
      return result;
    }
    const detailType =
      result.status === "Started"
        ? resultDetailTypes.Started
        : result.status === "Successful"
          ? resultDetailTypes.Succeeded
          : resultDetailTypes.Failed;
    await deps.publish(detailType, { ...result });
    if (result.status !== "Started") {
      await recordFinalStatus(input.run?.request.pair, result, deps);
      deps.recordMetrics({
        [metricNames.bytesStaged]: result.bytesStaged,
        [metricNames.chunksUploaded]: result.chunksUploaded,
        [metricNames.bytesWritten]: result.volumes.reduce((sum, volume) => sum + volume.bytesWritten, 0),
      });
    }
    return result;
  },
});

async function recordFinalStatus(pair: string | undefined, result: RunResult, deps: StepDeps) {
  if (pair === undefined || result.runId === null) return;
  const manifests = (await deps.openRepository(pair)).manifests;
  try {
    const record = await manifests.readRunRecord(result.runId);
    await manifests.writeRunRecord({
      ...record,
      status:
        result.status === "Successful"
          ? "Succeeded"
          : result.status === "PartialSuccess"
            ? "PartialSuccess"
            : "Failed",
      finishedAt: deps.now().toISOString(),
    });
  } catch (error) {
    // A run that failed before CommitRun has no record to update.
    if (!(error instanceof ManifestMissing)) throw error;
  }
}
