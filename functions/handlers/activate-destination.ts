import { awsStepDeps } from "../lib/workflow/aws-step-deps.ts";
import { stepEnvironmentSchema } from "../lib/workflow/environment.ts";
import { lambdaHandler } from "../lib/workflow/lambda-handler.ts";
import { activateDestination } from "../lib/workflow/steps/activate-destination.ts";

/** Lambda entry of the ActivateDestination Task. */
export const handler = lambdaHandler(activateDestination, stepEnvironmentSchema, awsStepDeps);
