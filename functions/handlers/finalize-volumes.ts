import { awsStepDeps } from "../lib/workflow/aws-step-deps.ts";
import { stepEnvironmentSchema } from "../lib/workflow/environment.ts";
import { lambdaHandler } from "../lib/workflow/lambda-handler.ts";
import { finalizeVolumes } from "../lib/workflow/steps/finalize-volumes.ts";

/** Lambda entry of the FinalizeVolumes Task. */
export const handler = lambdaHandler(finalizeVolumes, stepEnvironmentSchema, awsStepDeps);
