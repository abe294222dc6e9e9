import { awsStepDeps } from "../lib/workflow/aws-step-deps.ts";
import { stepEnvironmentSchema } from "../lib/workflow/environment.ts";
import { lambdaHandler } from "../lib/workflow/lambda-handler.ts";
import { applyResources } from "../lib/workflow/steps/apply-resources.ts";

/** Lambda entry of the ApplyResources Task. */
export const handler = lambdaHandler(applyResources, stepEnvironmentSchema, awsStepDeps);
