import { awsStepDeps } from "../lib/workflow/aws-step-deps.ts";
import { stepEnvironmentSchema } from "../lib/workflow/environment.ts";
import { lambdaHandler } from "../lib/workflow/lambda-handler.ts";
import { resumeSource } from "../lib/workflow/steps/resume-source.ts";

/** Lambda entry of the ResumeSource Task. */
export const handler = lambdaHandler(resumeSource, stepEnvironmentSchema, awsStepDeps);
