import { awsStepDeps } from "../lib/workflow/aws-step-deps.ts";
import { stepEnvironmentSchema } from "../lib/workflow/environment.ts";
import { lambdaHandler } from "../lib/workflow/lambda-handler.ts";
import { validateCutover } from "../lib/workflow/steps/validate-cutover.ts";

/** Lambda entry of the ValidateCutover Task. */
export const handler = lambdaHandler(validateCutover, stepEnvironmentSchema, awsStepDeps);
