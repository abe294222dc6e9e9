import { Logger } from "@aws-lambda-powertools/logger";
import type { z } from "zod";
import { runStep, type Step } from "./step.ts";
import type { StepDeps } from "./step-deps.ts";

/**
 * Wraps a step as a Lambda handler. The environment is parsed once per container, so a
 * missing variable fails the first invocation with its name; the dependencies (clients, the
 * opened repositories) are built once and reused by warm invocations.
 */
export function lambdaHandler<Environment, Schema extends z.ZodType, Output>(
  step: Step<Schema, Output>,
  environmentSchema: z.ZodType<Environment>,
  buildDeps: (environment: Environment, logger: Logger) => StepDeps,
): (event: unknown) => Promise<Output> {
  const logger = new Logger({ serviceName: "kubeferry" });
  let deps: StepDeps | undefined;
  return async (event) => {
    deps ??= buildDeps(environmentSchema.parse(process.env), logger);
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
