import { awsStepDeps } from "../lib/workflow/aws-step-deps.ts";
import { publishEnvironmentSchema } from "../lib/workflow/environment.ts";
import { lambdaHandler } from "../lib/workflow/lambda-handler.ts";
import { compensate } from "../lib/workflow/steps/compensate.ts";

/** Lambda entry of the compensation, the target of the rule on executions that end FAILED, TIMED_OUT or ABORTED. */
export const handler = lambdaHandler(compensate, publishEnvironmentSchema, awsStepDeps);
