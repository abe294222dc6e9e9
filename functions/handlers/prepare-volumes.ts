import { awsStepDeps } from "../lib/workflow/aws-step-deps.ts";
import { stepEnvironmentSchema } from "../lib/workflow/environment.ts";
import { lambdaHandler } from "../lib/workflow/lambda-handler.ts";
import { prepareVolumes } from "../lib/workflow/steps/prepare-volumes.ts";

/** Lambda entry of the PrepareVolumes Task. */
export const handler = lambdaHandler(prepareVolumes, stepEnvironmentSchema, awsStepDeps);
