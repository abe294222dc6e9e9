import { awsStepDeps } from "../lib/workflow/aws-step-deps.ts";
import { publishEnvironmentSchema } from "../lib/workflow/environment.ts";
import { lambdaHandler } from "../lib/workflow/lambda-handler.ts";
import { requestApproval } from "../lib/workflow/steps/request-approval.ts";

/** Lambda entry of the RequestApproval Task. */
export const handler = lambdaHandler(requestApproval, publishEnvironmentSchema, awsStepDeps);
