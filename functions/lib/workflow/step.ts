import type { z } from "zod";
import { ValidationError } from "../errors.ts";
import { describeIssues } from "./request.ts";
import type { StepDeps } from "./step-deps.ts";
import type { TaskName } from "./task-catalog.ts";

/**
 * One workflow Task's logic: its input schema and what it does. The Lambda handler, the
 * local runner and tests all call `runStep`, so they run the same code on the same input.
 */
export interface Step<Schema extends z.ZodType = z.ZodType, Output = unknown> {
  readonly task: TaskName;
  readonly input: Schema;
  run(input: z.output<Schema>, deps: StepDeps): Promise<Output>;
}

export function defineStep<Schema extends z.ZodType, Output>(
  step: Step<Schema, Output>,
): Step<Schema, Output> {
  return step;
}

export async function runStep<Schema extends z.ZodType, Output>(
  step: Step<Schema, Output>,
  raw: unknown,
  deps: StepDeps,
): Promise<Output> {
  const parsed = step.input.safeParse(raw);
  if (!parsed.success) {
    // The workflow built this input, so a mismatch is a defect between the ASL and the step.
    throw new ValidationError(`${step.task}: unexpected input: ${describeIssues(parsed.error)}`);
  }
  return step.run(parsed.data, deps);
}
