import { awsStepDeps } from "../lib/workflow/aws-step-deps.ts";
import { stepEnvironmentSchema } from "../lib/workflow/environment.ts";
import { lambdaHandler } from "../lib/workflow/lambda-handler.ts";
import { checkDrill } from "../lib/workflow/steps/check-drill.ts";

/** Lambda entry of the CheckDrill Task. */
export const handler = lambdaHandler(checkDrill, stepEnvironmentSchema, awsStepDeps);
