import { awsStepDeps } from "../lib/workflow/aws-step-deps.ts";
import { stepEnvironmentSchema } from "../lib/workflow/environment.ts";
import { lambdaHandler } from "../lib/workflow/lambda-handler.ts";
import { planRanges } from "../lib/workflow/steps/plan-ranges.ts";

/** Lambda entry of the PlanRanges Task. */
export const handler = lambdaHandler(planRanges, stepEnvironmentSchema, awsStepDeps);
