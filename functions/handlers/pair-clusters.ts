import { awsStepDeps } from "../lib/workflow/aws-step-deps.ts";
import { stepEnvironmentSchema } from "../lib/workflow/environment.ts";
import { lambdaHandler } from "../lib/workflow/lambda-handler.ts";
import { pairClusters } from "../lib/workflow/steps/pair-clusters.ts";

/** Lambda entry of the PairClusters Task. */
export const handler = lambdaHandler(pairClusters, stepEnvironmentSchema, awsStepDeps);
