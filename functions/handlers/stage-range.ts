import { awsStepDeps } from "../lib/workflow/aws-step-deps.ts";
import { stepEnvironmentSchema } from "../lib/workflow/environment.ts";
import { lambdaHandler } from "../lib/workflow/lambda-handler.ts";
import { stageRange } from "../lib/workflow/steps/stage-range.ts";

/** Lambda entry of the StageRange Task. */
export const handler = lambdaHandler(stageRange, stepEnvironmentSchema, awsStepDeps);
