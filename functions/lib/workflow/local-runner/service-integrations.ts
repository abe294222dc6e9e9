import { randomUUID } from "node:crypto";
import { newLocalTaskToken, type TaskAnswer } from "../task-answers.ts";
import { localArnPrefix } from "./cloud-assembly.ts";
import { resolveReferencePath, StatesRuntimeError } from "./reference-path.ts";
import type { AslDefinition, AslState } from "./time-scale.ts";

/**
 * The two Step Functions service integrations the cutover uses, run by the local runner as AWS
 * runs them:
 *
 * - `states:startExecution.sync:2` starts the named machine (one of the synthesized machines,
 *   by its local ARN) as a child execution of the local runner and waits for it. It returns
 *   what DescribeExecution returns, with Input and Output as JSON
 *   (https://docs.aws.amazon.com/step-functions/latest/dg/connect-stepfunctions.html); a child
 *   that did not succeed fails the Task with States.TaskFailed, its description (with Error and
 *   Cause) as the cause. Stopping the parent stops the child.
 * - `lambda:invoke.waitForTaskToken` gives the Task a token where the Parameters read
 *   `$$.Task.Token`, invokes the function with the Payload, then waits until the token is
 *   answered through the caller's channel (`TaskTokenAnswers`): a success's output is the
 *   Task's result, a failure fails it with the answer's error and cause. TimeoutSeconds or
 *   TimeoutSecondsPath (resolved against the state's input) ends the wait with States.Timeout,
 *   on the time scale.
 */
export const startExecutionSync = "arn:aws:states:::states:startExecution.sync:2";
export const lambdaWaitForTaskToken = "arn:aws:states:::lambda:invoke.waitForTaskToken";

/** What `$$.Task.Token` reads in a local execution; each waiting Task's entry replaces it with a fresh token. */
export const taskTokenPlaceholder = "kubeferry-local-task-token";

/** The channel through which a local run's task tokens are answered (`kubeferry approve` writes to it). */
export interface TaskTokenAnswers {
  wait(token: string, signal: AbortSignal): Promise<TaskAnswer>;
}

export class TaskFailed extends Error {
  override readonly name = "States.TaskFailed";
}

export class TaskTimedOut extends Error {
  override readonly name = "States.Timeout";
}

/** A SendTaskFailure's error: named as the answer names it, so Retry and Catch match it. */
class AnsweredFailure extends Error {
  constructor(error: string, cause: string) {
    super(cause);
    this.name = error;
  }
}

/** The top-level states that use one of the integrations, refusing those the runner does not run. */
export function integrationStates(definition: AslDefinition): Array<[string, AslState]> {
  const states = Object.entries(definition.States).filter(
    ([, state]) => state.Type === "Task" && state.Resource?.startsWith("arn:aws:states:::"),
  );
  for (const [name, state] of states) {
    if (state.Resource !== startExecutionSync && state.Resource !== lambdaWaitForTaskToken) {
      throw new Error(`${name}: service integration ${state.Resource} is not supported by the local runner`);
    }
    if (state.HeartbeatSeconds !== undefined || state.HeartbeatSecondsPath !== undefined) {
      throw new Error(`${name}: task heartbeats are not supported by the local runner`);
    }
  }
  return states;
}

/** A child execution as the parent's runner starts it. */
export interface ChildExecution {
  result: Promise<
    { status: "SUCCEEDED"; output: unknown } | { status: string; error: string; cause: string }
  >;
  abort(): void;
}

export interface NestedExecutionDeps {
  /** Synthesized machines by local ARN. */
  machines: Record<string, AslDefinition>;
  start(definition: AslDefinition, input: unknown, name: string, arn: string): ChildExecution;
  /** Registers a running child's abort; the returned function unregisters it. */
  track(abort: () => void): () => void;
}

export function nestedExecution(state: string, deps: NestedExecutionDeps) {
  return async (parameters: unknown): Promise<unknown> => {
    const { StateMachineArn, Name, Input } = parameters as {
      StateMachineArn?: string;
      Name?: string;
      Input?: unknown;
    };
    const definition = StateMachineArn === undefined ? undefined : deps.machines[StateMachineArn];
    if (definition === undefined) {
      throw new TaskFailed(`${state}: state machine ${StateMachineArn} does not exist in this local run`);
    }
    const name = Name ?? randomUUID();
    const input = typeof Input === "string" ? JSON.parse(Input) : (Input ?? {});
    const startDate = Date.now();
    const execution = deps.start(definition, input, name, StateMachineArn as string);
    const untrack = deps.track(execution.abort);
    const outcome = await execution.result.finally(untrack);
    const description = {
      ExecutionArn: `${(StateMachineArn as string).replace(":stateMachine:", ":execution:")}:${name}`,
      StateMachineArn,
      Name: name,
      Input: input,
      StartDate: startDate,
      StopDate: Date.now(),
      Status: outcome.status,
    };
    if ("output" in outcome) return { ...description, Output: outcome.output };
    throw new TaskFailed(JSON.stringify({ ...description, Error: outcome.error, Cause: outcome.cause }));
  };
}

export interface TaskTokenDeps {
  invoke(functionName: string, payload: unknown): Promise<unknown>;
  answers: TaskTokenAnswers | undefined;
  /** The state's input as it was entered: what TimeoutSecondsPath reads. */
  enteredInput(): unknown;
  timeScale: number;
  track(abort: () => void): () => void;
}

export function waitForTaskToken(name: string, state: AslState, deps: TaskTokenDeps) {
  return async (parameters: unknown): Promise<unknown> => {
    const { FunctionName, Payload } = parameters as { FunctionName?: string; Payload?: unknown };
    if (typeof FunctionName !== "string" || !FunctionName.startsWith(localArnPrefix)) {
      throw new StatesRuntimeError(
        `${name}: Parameters.FunctionName ${FunctionName} is not a function of this run`,
      );
    }
    if (deps.answers === undefined) {
      throw new StatesRuntimeError(`${name}: this local run was given no channel to answer task tokens`);
    }
    const timeoutSeconds = Number(
      state.TimeoutSecondsPath === undefined
        ? (state.TimeoutSeconds ?? 99_999_999)
        : resolveReferencePath(String(state.TimeoutSecondsPath), deps.enteredInput()),
    );
    const token = newLocalTaskToken();
    const controller = new AbortController();
    const untrack = deps.track(() => controller.abort());
    const timer = setTimeout(
      () => controller.abort(new TaskTimedOut(`${name}: no answer to its task token in time`)),
      Math.min(timeoutSeconds * 1000 * deps.timeScale, 2 ** 31 - 1),
    );
    try {
      await deps.invoke(FunctionName.slice(localArnPrefix.length), withToken(Payload, token));
      const answer = await deps.answers.wait(token, controller.signal);
      if (answer.outcome === "success") return answer.output;
      throw new AnsweredFailure(answer.error, answer.cause);
    } catch (error) {
      throw controller.signal.reason instanceof TaskTimedOut ? controller.signal.reason : error;
    } finally {
      clearTimeout(timer);
      untrack();
    }
  };
}

function withToken(value: unknown, token: string): unknown {
  if (value === taskTokenPlaceholder) return token;
  if (Array.isArray(value)) return value.map((item) => withToken(item, token));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, withToken(item, token)]));
  }
  return value;
}
