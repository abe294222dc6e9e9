import { awsStepDeps } from "../lib/workflow/aws-step-deps.ts";
import { stepEnvironmentSchema } from "../lib/workflow/environment.ts";
import { lambdaHandler } from "../lib/workflow/lambda-handler.ts";
import { preHooks } from "../lib/workflow/steps/hook-phase.ts";

/** Lambda entry of the PreHooks Task. */
export const handler = lambdaHandler(preHooks, stepEnvironmentSchema, awsStepDeps);
