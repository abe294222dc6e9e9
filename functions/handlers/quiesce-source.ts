import { awsStepDeps } from "../lib/workflow/aws-step-deps.ts";
import { stepEnvironmentSchema } from "../lib/workflow/environment.ts";
import { lambdaHandler } from "../lib/workflow/lambda-handler.ts";
import { quiesceSource } from "../lib/workflow/steps/quiesce-source.ts";

/** Lambda entry of the QuiesceSource Task. */
export const handler = lambdaHandler(quiesceSource, stepEnvironmentSchema, awsStepDeps);
