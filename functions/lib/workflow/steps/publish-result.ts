import { ManifestMissing } from "../../repository/errors.ts";
import type { RunRecord } from "../../repository/manifests.ts";
import { drillDetailTypes, resultDetailTypes } from "../events.ts";
import { metricNames } from "../metrics.ts";
import { mapRunFailedError, withRangeFailure } from "../range-failures.ts";
import { readVolumeList } from "../run-plans.ts";
import {
  endingOutcomeSchema,
  type PublishInput,
  publishInputSchema,
  type RunResult,
  type RunStatus,
  runResult,
  type VolumeReport,
  volumeReportSchema,
} from "../run-result.ts";
import { defineStep } from "../step.ts";
import type { StepDeps } from "../step-deps.ts";

/**
 * Publishes Migration Started / Succeeded / Failed on the kubeferry bus (a partial success, a
 * timed-out and an aborted run are published as Failed, with their status in the detail: they
 * need a person), records the final
 * status in the run record, and emits the run's figures as CloudWatch metrics. A drill publishes
 * Drill Started / Passed / Failed instead, and DrillsFailed (0 or 1) for the drill alarm.
 */
export const publishResult = defineStep({
  task: "PublishResult",
  input: publishInputSchema,
  async run(raw, deps) {
    const input = await withRangeFailureNamed(raw, deps);
    const result = runResult(input, deps.now(), await volumeReports(input, deps));
    if (result.status === "Skipped") {
      deps.log.warn("run skipped", { reason: result.error });
      // A run skipped after it staged (a standby in use) has a record to close; one skipped at its lock has none.
      await recordFinalStatus(input, result, deps);
      return result;
    }
    await deps.publish(detailTypeOf(result), { ...result });
    if (result.status !== "Started") {
      await recordFinalStatus(input, result, deps);
      deps.recordMetrics({
        [metricNames.bytesStaged]: result.bytesStaged,
        [metricNames.chunksUploaded]: result.chunksUploaded,
        [metricNames.bytesWritten]: result.volumes.reduce((sum, volume) => sum + volume.bytesWritten, 0),
        ...(result.drill ? { [metricNames.drillsFailed]: result.drill.passed ? 0 : 1 } : {}),
      });
    }
    return result;
  },
});

function detailTypeOf(result: RunResult): string {
  if (result.drill) {
    if (result.status === "Started") return drillDetailTypes.Started;
    return result.drill.passed ? drillDetailTypes.Passed : drillDetailTypes.Failed;
  }
  if (result.status === "Started") return resultDetailTypes.Started;
  return result.status === "Successful" ? resultDetailTypes.Succeeded : resultDetailTypes.Failed;
}

/** The run's volume reports, if it restored any (runResult keeps the first `reportedVolumes`). */
async function volumeReports(input: PublishInput, deps: StepDeps): Promise<VolumeReport[]> {
  if (input.volumes === undefined || input.run === undefined) return [];
  const { store } = await deps.openRepository(input.run.request.pair);
  return readVolumeList(store, input.volumes.volumes, volumeReportSchema);
}

/** A Map Run's failure says only that a child failed; the run's result names the range and its error. */
async function withRangeFailureNamed(input: PublishInput, deps: StepDeps): Promise<PublishInput> {
  if (input.error?.Error !== mapRunFailedError || input.run === undefined) return input;
  const { store } = await deps.openRepository(input.run.request.pair);
  return { ...input, error: await withRangeFailure(store, input.run.id, input.error) };
}

async function recordFinalStatus(input: PublishInput, result: RunResult, deps: StepDeps) {
  const run = input.run;
  if (run === undefined) return;
  const manifests = (await deps.openRepository(run.request.pair)).manifests;
  const final = {
    // PublishResult records only final statuses.
    status: recordStatuses[result.status as keyof typeof recordStatuses],
    finishedAt: deps.now().toISOString(),
  };
  try {
    await manifests.writeRunRecord({ ...(await manifests.readRunRecord(run.id)), ...final });
  } catch (error) {
    if (!(error instanceof ManifestMissing)) throw error;
    // A run that failed on a Catch path before CommitRun has no record to update; a migration
    // that ended where no Catch saw it gets one, so `kubeferry status` shows how it ended.
    if (!endingOutcomeSchema.safeParse(input.outcome).success || !("includeVolumes" in run.request)) return;
    await manifests.writeRunRecord({
      version: 1,
      runId: run.id,
      pair: run.request.pair,
      startedAt: run.startedAt,
      volumes: [],
      ...final,
    });
  }
}

const recordStatuses = {
  Successful: "Succeeded",
  PartialSuccess: "PartialSuccess",
  Failed: "Failed",
  Skipped: "Skipped",
  TimedOut: "TimedOut",
  Aborted: "Aborted",
} as const satisfies Record<Exclude<RunStatus, "Started">, RunRecord["status"]>;
