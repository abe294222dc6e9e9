import { awsStepDeps } from "../lib/workflow/aws-step-deps.ts";
import { stepEnvironmentSchema } from "../lib/workflow/environment.ts";
import { lambdaHandler } from "../lib/workflow/lambda-handler.ts";
import { planDrill } from "../lib/workflow/steps/plan-drill.ts";

/** Lambda entry of the PlanDrill Task. */
export const handler = lambdaHandler(planDrill, stepEnvironmentSchema, awsStepDeps);
