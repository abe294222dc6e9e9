import type { z } from "zod";
import { ManifestMissing, ValidationError } from "../../errors.ts";
import type { CutoverResult } from "../cutover/result.ts";
import { type ExecutionEnding, executionEndingSchema, workflowFailErrors } from "../execution-ending.ts";
import {
  activationRequestSchema,
  cutoverRequestSchema,
  cutoverSyncRequest,
  migrationRequestSchema,
} from "../request.ts";
import { type CutoverRun, type Run, runIdFromExecution } from "../run.ts";
import type { PublishInput, RunResult } from "../run-result.ts";
import { defineStep, runStep, type Step } from "../step.ts";
import type { StepDeps } from "../step-deps.ts";
import { cleanup } from "./cleanup.ts";
import { compensateCutover } from "./compensate-cutover.ts";
import { publishResult } from "./publish-result.ts";
import { releaseLock } from "./release-lock.ts";

export interface Compensation {
  runId: string | null;
  /** What ran: Cleanup, ReleaseLock, PublishResult; none when the request was never valid. */
  ran: string[];
  result: RunResult | CutoverResult | null;
}

const endingOutcomes = { FAILED: "Failed", TIMED_OUT: "TimedOut", ABORTED: "Aborted" } as const;

/**
 * What a Catch path does, for the endings no Catch sees (execution timeout, StopExecution,
 * States.DataLimitExceeded, States.Runtime): Cleanup, ReleaseLock and PublishResult of the run
 * with its real status. EventBridge invokes it on every FAILED, TIMED_OUT and ABORTED
 * execution of the two workflows, also after a Catch path already ran (the workflow's own Fail
 * state) or after the same event was delivered before (the run record is final): then cleanup
 * and release run again — both are idempotent — and nothing is published twice. The run's identity is the one ValidateRequest gave it: from the execution's ARN, start
 * and input.
 */
export const compensate = defineStep({
  task: "Compensate",
  input: executionEndingSchema,
  async run(ending, deps): Promise<Compensation> {
    const runId = runIdFromExecution(ending.detail.executionArn);
    const input = await executionInput(ending, deps);
    const cutover = cutoverRunOf(ending, runId, input);
    // Its own Fail state: the cutover's Catch path already rolled back and published.
    const caught = ending.detail.status === "FAILED" && isWorkflowFail(ending.detail.error);
    if (cutover) return caught ? { runId, ran: [], result: null } : compensateCutover(ending, cutover, deps);
    const run = runOf(ending, runId, input);
    if (run === undefined || (await deps.pairs.get(run.request.pair)) === undefined) {
      // ValidateRequest refused it and PublishRejected reported it; nothing was touched.
      deps.log.info("nothing to compensate: the execution's request is not a valid request", { runId });
      return { runId, ran: [], result: null };
    }
    const alreadyPublished =
      (ending.detail.status === "FAILED" && isWorkflowFail(ending.detail.error)) ||
      (await alreadyFinal(run, deps));
    const steps: Array<[Step, unknown]> = [];
    if ("includeVolumes" in run.request) steps.push([cleanup, { run }]);
    steps.push([releaseLock, { run }]);
    if (!alreadyPublished) {
      const publish: PublishInput = {
        run,
        outcome: endingOutcomes[ending.detail.status],
        error: { Error: ending.detail.error ?? ending.detail.status, Cause: ending.detail.cause ?? "" },
      };
      steps.push([publishResult, publish]);
    }
    const ran: string[] = [];
    const failures: unknown[] = [];
    let result: RunResult | null = null;
    // Each part runs though an earlier one failed: a lock stays released when a cluster is down.
    for (const [step, input] of steps) {
      try {
        const output = await runStep(step, input, deps);
        if (step === publishResult) result = output as RunResult;
        ran.push(step.task);
      } catch (error) {
        deps.log.warn(`compensation: ${step.task} failed`, { runId, error: String(error) });
        failures.push(error);
      }
    }
    // Thrown so that EventBridge's asynchronous invocation retries the whole (idempotent) compensation.
    if (failures.length > 0) throw failures[0];
    return { runId, ran, result };
  },
});

/** A redelivered event: an earlier compensation (or PublishResult) already recorded how the run ended. */
async function alreadyFinal(run: Run, deps: StepDeps): Promise<boolean> {
  try {
    const record = await (await deps.openRepository(run.request.pair)).manifests.readRunRecord(run.id);
    return record.status !== "Running";
  } catch (error) {
    if (error instanceof ManifestMissing) return false;
    throw error;
  }
}

function isWorkflowFail(error: string | null | undefined): boolean {
  return (workflowFailErrors as readonly (string | null | undefined)[]).includes(error);
}

async function executionInput(ending: ExecutionEnding, deps: StepDeps): Promise<string> {
  if (typeof ending.detail.input === "string") return ending.detail.input;
  if (!deps.executionInput) {
    throw new ValidationError(
      `execution ${ending.detail.executionArn}: its input is not in the status-change event and this function cannot describe executions`,
    );
  }
  return deps.executionInput(ending.detail.executionArn);
}

/** The run's identity as ValidateRequest (or ValidateCutover) gave it, and its input, if it is JSON. */
function identityOf(ending: ExecutionEnding, id: string, input: string) {
  let raw: unknown;
  try {
    raw = JSON.parse(input);
  } catch {
    return undefined;
  }
  const identity = {
    id,
    execution: ending.detail.executionArn,
    startedAt: new Date(ending.detail.startDate).toISOString(),
  };
  return { raw, identity };
}

function cutoverRunOf(ending: ExecutionEnding, id: string, input: string): CutoverRun | undefined {
  const parsedInput = identityOf(ending, id, input);
  const request = cutoverRequestSchema.safeParse(parsedInput?.raw);
  if (!parsedInput || !request.success) return undefined;
  return { ...parsedInput.identity, request: request.data, sync: cutoverSyncRequest(request.data) };
}

function runOf(ending: ExecutionEnding, id: string, input: string): Run | undefined {
  const parsedInput = identityOf(ending, id, input);
  if (!parsedInput) return undefined;
  const { raw, identity } = parsedInput;
  for (const schema of [migrationRequestSchema, activationRequestSchema] as z.ZodType<Run["request"]>[]) {
    const parsed = schema.safeParse(raw);
    if (parsed.success) return { ...identity, request: parsed.data } as Run;
  }
  return undefined;
}
