import {
  ExecutionAbortedError,
  ExecutionError,
  ExecutionTimeoutError,
  StateMachine,
} from "aws-local-stepfunctions";
import { type EndingStatus, type ExecutionEnding, executionEndingEvent } from "./execution-ending.ts";
import { localArnPrefix } from "./local-runner/cloud-assembly.ts";
import {
  type ChildEvent,
  checkSupported,
  type ItemSource,
  readsItems,
  runDistributedMap,
  standInTask,
} from "./local-runner/distributed-map.ts";
import { EventChannel } from "./local-runner/event-channel.ts";
import { guardOption, installGuardHook, LimitsGuard } from "./local-runner/limits-guard.ts";
import { checkPayload } from "./local-runner/payload-limit.ts";
import {
  integrationStates,
  nestedExecution,
  startExecutionSync,
  type TaskTokenAnswers,
  taskTokenPlaceholder,
  waitForTaskToken,
} from "./local-runner/service-integrations.ts";
import { type AslDefinition, longestTimerSeconds, scaleDefinition } from "./local-runner/time-scale.ts";

/**
 * Runs a state machine as Step Functions would, on aws-local-stepfunctions: every Lambda Task
 * goes to a local invoker, and what the library does not enforce is enforced here — the
 * payload quota (payload-limit.ts), the time scale of every timeout and Wait (time-scale.ts),
 * the Distributed Maps that read their items from S3 in batches (distributed-map.ts),
 * and the endings no Catch sees, with their final status: an execution past its TimeoutSeconds
 * is TIMED_OUT with States.Timeout
 * (https://docs.aws.amazon.com/step-functions/latest/dg/statemachine-structure.html), a
 * stopped one ABORTED (https://docs.aws.amazon.com/step-functions/latest/apireference/API_StopExecution.html);
 * in both, a running Task's function is not stopped and no further state runs. The endings
 * no Catch sees are handed to the compensation, as the rule on their status change does in AWS.
 * Nested executions and task tokens are service-integrations.ts.
 */

/** Every Task state (Map item processors included) mapped to the name of the local function it invokes. */
export function taskStates(definition: AslDefinition): Map<string, string> {
  const states = new Map<string, string>();
  for (const [name, state] of Object.entries(definition.States)) {
    if (state.Type === "Task" && state.Resource?.startsWith(localArnPrefix)) {
      states.set(name, state.Resource.slice(localArnPrefix.length));
    }
    if (state.ItemProcessor) {
      for (const [inner, task] of taskStates(state.ItemProcessor)) states.set(inner, task);
    }
  }
  return states;
}

/** Invokes a Task's function with the state's payload; rejects with an Error named as Lambda names the error. */
export type LocalTaskInvoker = (functionName: string, payload: unknown) => Promise<unknown>;

export interface ExecutionEvent {
  type: string;
  timestamp: number;
  state?: string;
  /** The state's input and (on exit) output: progress is read from the range items' results. */
  input?: unknown;
  output?: unknown;
  index?: number;
  error?: string;
  cause?: string;
}

/**
 * How an execution ended, as DescribeExecution reports it; for the endings the compensation
 * sees, what it returned or how it failed.
 */
export type ExecutionOutcome =
  | { status: "SUCCEEDED"; output: unknown }
  | { status: EndingStatus; error: string; cause: string; compensation?: Compensated };

export type Compensated = { output: unknown } | { error: string };

export interface LocalExecution {
  /** Resolves once the execution has ended, however it ended. */
  result: Promise<ExecutionOutcome>;
  /** Every event of the execution, in order, as it happens. */
  events: AsyncIterable<ExecutionEvent>;
  /** StopExecution: ends the execution ABORTED; no Catch runs, a running Task's function keeps running. */
  abort(): void;
}

export interface LocalExecutionOptions {
  /** Shrinks every timeout, Retry interval and Wait (see time-scale.ts); 1 is real time. */
  timeScale?: number;
  /** The bucket a Map's ItemReader reads, as the steps write it (see distributed-map.ts). */
  items?: ItemSource;
  /**
   * What the rule on "Step Functions Execution Status Change" targets in AWS: called with that
   * event when the execution ends FAILED, TIMED_OUT or ABORTED; the execution's result waits for it.
   */
  compensate?: (event: ExecutionEnding) => Promise<unknown>;
  /** The machines a `startExecution.sync:2` Task may start, by local ARN; each child runs with these same options. */
  stateMachines?: Record<string, AslDefinition>;
  /** Where the tokens of `.waitForTaskToken` Tasks are answered. */
  taskAnswers?: TaskTokenAnswers;
  /** The ARN of the execution's machine (a nested child's); default `localStateMachineArn`. */
  stateMachineArn?: string;
}

/** The state machine ARN of every local execution. */
export const localStateMachineArn = "arn:aws:states:local:000000000000:stateMachine:kubeferry";

export function startLocalExecution(
  definition: AslDefinition,
  input: unknown,
  invoke: LocalTaskInvoker,
  executionName: string,
  options: LocalExecutionOptions = {},
): LocalExecution {
  const scale = options.timeScale ?? 1;
  // Validate the definition as written; the scaled copy has fractional timeouts ASL would refuse.
  new StateMachine(definition as never, { validationOptions: { checkPaths: true } });
  const readingMaps = Object.entries(definition.States).filter(([, state]) => readsItems(state));
  for (const [name, state] of readingMaps) checkSupported(name, state);
  refuseNestedReadingMaps(definition);
  const scaled = scaleDefinition(definition, scale);
  for (const [name] of readingMaps) {
    scaled.States[name] = standInTask(scaled.States[name] as never, longestTimerSeconds);
  }
  const machine = new StateMachine(scaled as never, { validationOptions: { noValidate: true } });
  installGuardHook();
  const guard = new LimitsGuard(scale);
  const events = new EventChannel<ExecutionEvent>();
  const children = new Set<() => void>();
  const handlers: Record<string, (payload: unknown) => Promise<unknown>> = Object.fromEntries(
    [...taskStates(definition)].map(([state, task]) => [
      state,
      async (payload: unknown) => {
        const result = await invoke(task, payload);
        checkPayload(result, `The state/task '${state}' returned a result that`);
        return result;
      },
    ]),
  );
  const track = (abort: () => void) => {
    children.add(abort);
    return () => children.delete(abort);
  };
  for (const [name, state] of integrationStates(definition)) {
    handlers[name] =
      state.Resource === startExecutionSync
        ? nestedExecution(name, {
            machines: options.stateMachines ?? {},
            start: (child, childInput, childName, arn) => {
              const execution = startLocalExecution(child, childInput, invoke, childName, {
                ...options,
                stateMachineArn: arn,
              });
              // The child's states in the parent's log, under the Task that started it.
              void (async () => {
                for await (const event of execution.events) {
                  events.push({ ...event, ...(event.state && { state: `${name}/${event.state}` }) });
                }
              })();
              return execution;
            },
            track,
          })
        : waitForTaskToken(name, state, {
            invoke,
            answers: options.taskAnswers,
            enteredInput: () => guard.enteredInputs.get(name),
            timeScale: scale,
            track,
          });
  }
  const stateMachineArn = options.stateMachineArn ?? localStateMachineArn;
  const executionArn = `${stateMachineArn.replace(":stateMachine:", ":execution:")}:${executionName}`;
  const startDate = new Date();
  const runOptions = {
    overrides: {
      taskResourceLocalHandlers: handlers,
      waitTimeOverrides: guard.waitTimeOverrides,
    },
    context: {
      Execution: {
        Id: executionArn,
        Name: executionName,
        Input: input,
        StartTime: startDate.toISOString(),
      },
      Task: { Token: taskTokenPlaceholder },
    },
    [guardOption]: { guard, root: machine },
  };
  for (const [name] of readingMaps) {
    handlers[name] = (payload) =>
      runDistributedMap(
        {
          name,
          state: definition.States[name] as never,
          processor: scaleDefinition(definition.States[name]?.ItemProcessor as AslDefinition, scale),
          source: options.items,
          runOptions,
          onEvent: (event) => events.push(simplified(event)),
          track,
        },
        payload,
      );
  }
  const execution = machine.run(input as never, runOptions as never);
  const stopChildren = () => {
    for (const abort of children) abort();
  };
  const rootEvents = (async () => {
    for await (const event of execution.eventLogs as AsyncIterable<RawEvent>) events.push(simplified(event));
  })();
  const result = execution.result.then(
    (output): ExecutionOutcome => ({ status: "SUCCEEDED", output }),
    (error) => {
      // An execution that ends stops its Map Runs' child executions.
      stopChildren();
      return outcomeOf(error);
    },
  );
  void Promise.all([result, rootEvents]).finally(() => events.close());
  return {
    result: result.then(async (outcome) => {
      if (outcome.status === "SUCCEEDED" || !options.compensate) return outcome;
      const event = executionEndingEvent({
        executionArn,
        stateMachineArn,
        status: outcome.status,
        startDate,
        input,
        error: outcome.error,
        cause: outcome.cause,
      });
      const compensation = await options.compensate(event).then(
        (output) => ({ output }),
        (error: unknown) => ({
          error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
        }),
      );
      return { ...outcome, compensation };
    }),
    events,
    abort: () => {
      execution.abort();
      stopChildren();
    },
  };
}

/** A reading Map runs only at the top level of the definition (where the workflow has them). */
function refuseNestedReadingMaps(definition: AslDefinition, depth = 0): void {
  for (const [name, state] of Object.entries(definition.States)) {
    if (depth > 0 && readsItems(state)) {
      throw new Error(
        `${name}: a Map with ItemReader/ItemBatcher inside another Map is not supported by the local runner`,
      );
    }
    if (state.ItemProcessor) refuseNestedReadingMaps(state.ItemProcessor, depth + 1);
  }
}

function outcomeOf(error: unknown): ExecutionOutcome {
  if (error instanceof ExecutionTimeoutError) {
    return {
      status: "TIMED_OUT",
      error: "States.Timeout",
      cause: "The execution ran past its TimeoutSeconds",
    };
  }
  if (error instanceof ExecutionAbortedError) {
    return { status: "ABORTED", error: "States.Aborted", cause: "The execution was stopped" };
  }
  const failure = error instanceof ExecutionError ? error.cause : error;
  return {
    status: "FAILED",
    error: failure instanceof Error ? failure.name : "States.Runtime",
    cause: failure instanceof Error ? failure.message : String(failure),
  };
}

/** The fields of the library's event log entries that the progress display uses. */
type RawEvent = ChildEvent;

function simplified(event: RawEvent): ExecutionEvent {
  return {
    type: event.type,
    timestamp: event.timestamp,
    ...(event.state?.name !== undefined && { state: event.state.name }),
    ...(event.state?.input !== undefined && { input: event.state.input }),
    ...(event.state?.output !== undefined && { output: event.state.output }),
    ...(event.index !== undefined && { index: event.index }),
    ...(event.Error !== undefined && { error: event.Error }),
    ...(event.Cause !== undefined && { cause: String(event.Cause) }),
  };
}
