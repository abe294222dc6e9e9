import { awsStepDeps } from "../lib/workflow/aws-step-deps.ts";
import { stepEnvironmentSchema } from "../lib/workflow/environment.ts";
import { lambdaHandler } from "../lib/workflow/lambda-handler.ts";
import { restoreRange } from "../lib/workflow/steps/restore-range.ts";

/** Lambda entry of the RestoreRange Task. */
export const handler = lambdaHandler(restoreRange, stepEnvironmentSchema, awsStepDeps);
