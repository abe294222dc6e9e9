import { Logger } from "@aws-lambda-powertools/logger";
import { z } from "zod";
import { loggerStepLog } from "./aws-step-deps.ts";
import { localEnvironmentSchema } from "./environment.ts";
import { localStepDeps } from "./local-step-deps.ts";
import { runStep, type Step } from "./step.ts";
import type { StepDeps } from "./step-deps.ts";

/**
 * Wraps a step as a Lambda handler. The environment is parsed once per container, so a
 * missing variable fails the first invocation with its name; the dependencies (clients, the
 * opened repositories) are built once and reused by warm invocations. Under
 * KUBEFERRY_LOCAL_HOME (a local run of kubeferry's default, never set by infra) the step gets
 * the local dependencies instead of the AWS ones.
 */
export function lambdaHandler<Environment, Schema extends z.ZodType, Output>(
  step: Step<Schema, Output>,
  environmentSchema: z.ZodType<Environment>,
  buildDeps: (environment: Environment, logger: Logger) => StepDeps,
): (event: unknown) => Promise<Output> {
  const logger = new Logger({ serviceName: "kubeferry" });
  const schema = z.union([localEnvironmentSchema, environmentSchema]);
  let deps: StepDeps | undefined;
  return async (event) => {
    deps ??= stepDeps(schema.parse(process.env), logger, buildDeps);
    logger.resetKeys();
    logger.appendKeys({ task: step.task, runId: runIdOf(event) });
    logger.info("step started");
    try {
      const output = await runStep(step, event, deps);
      logger.info("step finished");
      return output;
    } catch (error) {
      logger.error("step failed", error as Error);
      throw error;
    }
  };
}

function runIdOf(event: unknown): string | undefined {
  const run = (event as { run?: { id?: unknown } } | null)?.run;
  return typeof run?.id === "string" ? run.id : undefined;
}

function stepDeps<Environment>(
  environment: Environment | z.infer<typeof localEnvironmentSchema>,
  logger: Logger,
  buildDeps: (environment: Environment, logger: Logger) => StepDeps,
): StepDeps {
  if (environment !== null && typeof environment === "object" && "KUBEFERRY_LOCAL_HOME" in environment) {
    return localStepDeps(environment.KUBEFERRY_LOCAL_HOME, loggerStepLog(logger));
  }
  return buildDeps(environment as Environment, logger);
}
