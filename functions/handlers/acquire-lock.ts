import { awsStepDeps } from "../lib/workflow/aws-step-deps.ts";
import { stepEnvironmentSchema } from "../lib/workflow/environment.ts";
import { lambdaHandler } from "../lib/workflow/lambda-handler.ts";
import { acquireLock } from "../lib/workflow/steps/acquire-lock.ts";

/** Lambda entry of the AcquireLock Task. */
export const handler = lambdaHandler(acquireLock, stepEnvironmentSchema, awsStepDeps);
