import { awsStepDeps } from "../lib/workflow/aws-step-deps.ts";
import { stepEnvironmentSchema } from "../lib/workflow/environment.ts";
import { lambdaHandler } from "../lib/workflow/lambda-handler.ts";
import { snapshotVolumes } from "../lib/workflow/steps/snapshot-volumes.ts";

/** Lambda entry of the SnapshotVolumes Task. */
export const handler = lambdaHandler(snapshotVolumes, stepEnvironmentSchema, awsStepDeps);
