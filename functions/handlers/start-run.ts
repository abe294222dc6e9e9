import { Logger } from "@aws-lambda-powertools/logger";
import { SFNClient } from "@aws-sdk/client-sfn";
import { startRunEnvironmentSchema } from "../lib/workflow/environment.ts";
import { sfnExecutionStarter } from "../lib/workflow/sfn-execution-starter.ts";
import { type ExecutionStarter, startTriggeredRun } from "../lib/workflow/triggered-run.ts";

const logger = new Logger({ serviceName: "kubeferry" });
let starter: ExecutionStarter | undefined;

/**
 * Lambda entry of the triggers (the stack's schedules and the Migration Requested rule): starts
 * the migration under a name derived from the trigger, so a repeated delivery starts no run.
 */
export async function handler(event: unknown) {
  starter ??= sfnExecutionStarter(
    new SFNClient({}),
    startRunEnvironmentSchema.parse(process.env).KUBEFERRY_MIGRATION_STATE_MACHINE_ARN,
  );
  const outcome = await startTriggeredRun(event, starter);
  logger.info(outcome.started ? "run started" : "duplicate delivery: no run started", { ...outcome });
  return outcome;
}
