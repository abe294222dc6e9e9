import { awsStepDeps } from "../lib/workflow/aws-step-deps.ts";
import { stepEnvironmentSchema } from "../lib/workflow/environment.ts";
import { lambdaHandler } from "../lib/workflow/lambda-handler.ts";
import { setActivation } from "../lib/workflow/steps/set-activation.ts";

/** Lambda entry of the SetActivation Task. */
export const handler = lambdaHandler(setActivation, stepEnvironmentSchema, awsStepDeps);
