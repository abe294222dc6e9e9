import { awsStepDeps } from "../lib/workflow/aws-step-deps.ts";
import { stepEnvironmentSchema } from "../lib/workflow/environment.ts";
import { lambdaHandler } from "../lib/workflow/lambda-handler.ts";
import { discoverResources } from "../lib/workflow/steps/discover-resources.ts";

/** Lambda entry of the DiscoverResources Task. */
export const handler = lambdaHandler(discoverResources, stepEnvironmentSchema, awsStepDeps);
