import { awsStepDeps } from "../lib/workflow/aws-step-deps.ts";
import { stepEnvironmentSchema } from "../lib/workflow/environment.ts";
import { lambdaHandler } from "../lib/workflow/lambda-handler.ts";
import { validateRequest } from "../lib/workflow/steps/validate-request.ts";

/** Lambda entry of the ValidateRequest Task. */
export const handler = lambdaHandler(validateRequest, stepEnvironmentSchema, awsStepDeps);
