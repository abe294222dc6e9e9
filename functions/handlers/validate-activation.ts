import { awsStepDeps } from "../lib/workflow/aws-step-deps.ts";
import { stepEnvironmentSchema } from "../lib/workflow/environment.ts";
import { lambdaHandler } from "../lib/workflow/lambda-handler.ts";
import { validateActivation } from "../lib/workflow/steps/validate-request.ts";

/** Lambda entry of the ValidateActivation Task. */
export const handler = lambdaHandler(validateActivation, stepEnvironmentSchema, awsStepDeps);
