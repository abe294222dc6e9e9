import { awsStepDeps } from "../lib/workflow/aws-step-deps.ts";
import { stepEnvironmentSchema } from "../lib/workflow/environment.ts";
import { lambdaHandler } from "../lib/workflow/lambda-handler.ts";
import { cleanup } from "../lib/workflow/steps/cleanup.ts";

/** Lambda entry of the Cleanup Task. */
export const handler = lambdaHandler(cleanup, stepEnvironmentSchema, awsStepDeps);
