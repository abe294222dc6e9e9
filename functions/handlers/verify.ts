import { awsStepDeps } from "../lib/workflow/aws-step-deps.ts";
import { stepEnvironmentSchema } from "../lib/workflow/environment.ts";
import { lambdaHandler } from "../lib/workflow/lambda-handler.ts";
import { verify } from "../lib/workflow/steps/verify.ts";

/** Lambda entry of the Verify Task. */
export const handler = lambdaHandler(verify, stepEnvironmentSchema, awsStepDeps);
