import { awsStepDeps } from "../lib/workflow/aws-step-deps.ts";
import { stepEnvironmentSchema } from "../lib/workflow/environment.ts";
import { lambdaHandler } from "../lib/workflow/lambda-handler.ts";
import { postHooks } from "../lib/workflow/steps/hook-phase.ts";

/** Lambda entry of the PostHooks Task. */
export const handler = lambdaHandler(postHooks, stepEnvironmentSchema, awsStepDeps);
