import { awsStepDeps } from "../lib/workflow/aws-step-deps.ts";
import { stepEnvironmentSchema } from "../lib/workflow/environment.ts";
import { lambdaHandler } from "../lib/workflow/lambda-handler.ts";
import { checkSnapshots } from "../lib/workflow/steps/check-snapshots.ts";

/** Lambda entry of the CheckSnapshots Task. */
export const handler = lambdaHandler(checkSnapshots, stepEnvironmentSchema, awsStepDeps);
