import { awsStepDeps } from "../lib/workflow/aws-step-deps.ts";
import { publishEnvironmentSchema } from "../lib/workflow/environment.ts";
import { lambdaHandler } from "../lib/workflow/lambda-handler.ts";
import { publishCutover } from "../lib/workflow/steps/publish-cutover.ts";

/** Lambda entry of the PublishCutover Task. */
export const handler = lambdaHandler(publishCutover, publishEnvironmentSchema, awsStepDeps);
