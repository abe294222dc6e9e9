import { awsStepDeps } from "../lib/workflow/aws-step-deps.ts";
import { stepEnvironmentSchema } from "../lib/workflow/environment.ts";
import { lambdaHandler } from "../lib/workflow/lambda-handler.ts";
import { commitRun } from "../lib/workflow/steps/commit-run.ts";

/** Lambda entry of the CommitRun Task. */
export const handler = lambdaHandler(commitRun, stepEnvironmentSchema, awsStepDeps);
