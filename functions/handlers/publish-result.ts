import { awsStepDeps } from "../lib/workflow/aws-step-deps.ts";
import { publishEnvironmentSchema } from "../lib/workflow/environment.ts";
import { lambdaHandler } from "../lib/workflow/lambda-handler.ts";
import { publishResult } from "../lib/workflow/steps/publish-result.ts";

/** Lambda entry of the PublishResult Task. */
export const handler = lambdaHandler(publishResult, publishEnvironmentSchema, awsStepDeps);
