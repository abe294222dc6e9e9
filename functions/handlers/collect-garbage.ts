import { Logger } from "@aws-lambda-powertools/logger";
import { awsStepDeps } from "../lib/workflow/aws-step-deps.ts";
import { garbageEnvironmentSchema } from "../lib/workflow/environment.ts";
import { collectEveryPairGarbage } from "../lib/workflow/pair-garbage.ts";
import type { StepDeps } from "../lib/workflow/step-deps.ts";

const logger = new Logger({ serviceName: "kubeferry" });
let deps: { step: StepDeps; keepRuns: number } | undefined;

/**
 * Lambda entry of the scheduled garbage collection (not a workflow Task: the stack's schedule
 * invokes it): every pair's retention and sweep, as `kubeferry gc` does.
 */
export async function handler(): Promise<unknown> {
  if (deps === undefined) {
    const environment = garbageEnvironmentSchema.parse(process.env);
    deps = { step: awsStepDeps(environment, logger), keepRuns: environment.KUBEFERRY_KEEP_RUNS };
  }
  const reports = await collectEveryPairGarbage(deps.step, {
    keepRuns: deps.keepRuns,
    owner: `kubeferry-scheduled-gc-${process.env.AWS_LAMBDA_LOG_STREAM_NAME ?? process.pid}`,
  });
  // The report without the deleted chunk ids: a sweep can delete millions.
  const summary = reports.map((report) =>
    "skipped" in report
      ? report
      : {
          pair: report.pair,
          droppedRuns: report.retention.droppedRuns,
          deletedChunks: report.deletedChunks.length,
          deletedBytes: report.deletedBytes,
        },
  );
  logger.info("garbage collected", { pairs: summary });
  return summary;
}
