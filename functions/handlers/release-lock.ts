import { awsStepDeps } from "../lib/workflow/aws-step-deps.ts";
import { stepEnvironmentSchema } from "../lib/workflow/environment.ts";
import { lambdaHandler } from "../lib/workflow/lambda-handler.ts";
import { releaseLock } from "../lib/workflow/steps/release-lock.ts";

/** Lambda entry of the ReleaseLock Task. */
export const handler = lambdaHandler(releaseLock, stepEnvironmentSchema, awsStepDeps);
