import { readFileSync } from "node:fs";
import { join } from "node:path";
import { StateMachine } from "aws-local-stepfunctions";
import { type TaskName, taskNames } from "./task-catalog.ts";

/**
 * Runs a state machine exactly as synthesized for AWS — the definition asset and its
 * substitutions from the CDK output — with every Lambda Task routed to a local function.
 */

const localArnPrefix = "arn:aws:lambda:local:000000000000:function:kubeferry-";

interface TemplateStateMachine {
  logicalId: string;
  definition: StateMachineDefinition;
}

// The ASL is only walked, not typed in full.
type StateMachineDefinition = { States: Record<string, AslState> } & Record<string, unknown>;
type AslState = { Type: string; Resource?: string; ItemProcessor?: StateMachineDefinition } & Record<
  string,
  unknown
>;

/**
 * The state machines of a synthesized stack, with each `${<Task>FunctionArn}` substitution
 * replaced by a local ARN that names the Task.
 */
interface TemplateResource {
  Type: string;
  Properties: {
    DefinitionString?: unknown;
    DefinitionS3Location?: { Key?: string };
    DefinitionSubstitutions?: Record<string, unknown>;
  };
}

interface AssetManifest {
  files?: Record<string, { source: { path: string }; destinations?: Record<string, { objectKey?: string }> }>;
}

export function loadStateMachines(cdkOutDir: string, stackName: string): TemplateStateMachine[] {
  const template: { Resources: Record<string, TemplateResource> } = JSON.parse(
    readFileSync(join(cdkOutDir, `${stackName}.template.json`), "utf8"),
  );
  const assets: AssetManifest = JSON.parse(readFileSync(join(cdkOutDir, `${stackName}.assets.json`), "utf8"));
  const machines: TemplateStateMachine[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== "AWS::StepFunctions::StateMachine") continue;
    const props = resource.Properties;
    const text = props.DefinitionString
      ? resolveJoin(props.DefinitionString)
      : readAsset(cdkOutDir, assets, props.DefinitionS3Location?.Key);
    const substituted = text.replace(/\$\{(\w+)\}/g, (whole, name: string) => {
      const value = props.DefinitionSubstitutions?.[name];
      if (value === undefined) throw new Error(`${logicalId}: no substitution for ${whole}`);
      return substitutionForLocalRun(name);
    });
    machines.push({ logicalId, definition: JSON.parse(substituted) });
  }
  return machines;
}

function readAsset(cdkOutDir: string, assets: AssetManifest, key: string | undefined): string {
  for (const file of Object.values(assets.files ?? {})) {
    const destinations = Object.values(file.destinations ?? {});
    if (destinations.some((destination) => destination.objectKey === key)) {
      return readFileSync(join(cdkOutDir, file.source.path), "utf8");
    }
  }
  throw new Error(`definition asset ${key} is not in the cloud assembly at ${cdkOutDir}`);
}

function resolveJoin(value: unknown): string {
  if (typeof value === "string") return value;
  const join = (value as { "Fn::Join"?: [string, unknown[]] })["Fn::Join"];
  if (!join) throw new Error(`cannot resolve ${JSON.stringify(value)} locally`);
  return join[1].map((part) => (typeof part === "string" ? part : resolveJoin(part))).join(join[0]);
}

function substitutionForLocalRun(name: string): string {
  const task = name.replace(/FunctionArn$/, "");
  if (!taskNames.includes(task as TaskName)) throw new Error(`substitution ${name} names no known Task`);
  return `${localArnPrefix}${task}`;
}

/** Every Task state (Map item processors included) mapped to the Task whose function it invokes. */
export function taskStates(definition: StateMachineDefinition): Map<string, TaskName> {
  const states = new Map<string, TaskName>();
  for (const [name, state] of Object.entries(definition.States)) {
    if (state.Type === "Task" && state.Resource?.startsWith(localArnPrefix)) {
      states.set(name, state.Resource.slice(localArnPrefix.length) as TaskName);
    }
    if (state.ItemProcessor) {
      for (const [inner, task] of taskStates(state.ItemProcessor)) states.set(inner, task);
    }
  }
  return states;
}

export type LocalTaskInvoker = (task: TaskName, input: unknown) => Promise<unknown>;

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

export interface LocalExecution {
  /** Resolves with the execution's output, or rejects with its error. */
  result: Promise<unknown>;
  /** Every event of the execution, in order, as it happens. */
  events: AsyncIterable<ExecutionEvent>;
}

export function startLocalExecution(
  definition: StateMachineDefinition,
  input: unknown,
  invoke: LocalTaskInvoker,
  executionName: string,
  options: { waitSeconds?: number } = {},
): LocalExecution {
  const machine = new StateMachine(definition as never, { validationOptions: { checkPaths: true } });
  const handlers = Object.fromEntries(
    [...taskStates(definition)].map(([state, task]) => [
      state,
      (taskInput: unknown) => invoke(task, taskInput),
    ]),
  );
  const waitMs = options.waitSeconds === undefined ? undefined : options.waitSeconds * 1000;
  const execution = machine.run(input as never, {
    overrides: {
      taskResourceLocalHandlers: handlers as never,
      // Shortens every Wait state (e.g. waiting for a lock), for tests and impatient local runs.
      ...(waitMs !== undefined && {
        waitTimeOverrides: Object.fromEntries(
          Object.entries(definition.States)
            .filter(([, state]) => state.Type === "Wait")
            .map(([name]) => [name, waitMs]),
        ),
      }),
    },
    context: {
      Execution: {
        Id: `arn:aws:states:local:000000000000:execution:kubeferry:${executionName}`,
        Name: executionName,
        Input: input,
        StartTime: new Date().toISOString(),
      },
    } as never,
  });
  return { result: execution.result, events: simplify(execution.eventLogs as AsyncIterable<RawEvent>) };
}

/** The fields of the library's event log entries that the progress display uses. */
interface RawEvent {
  type: string;
  timestamp: number;
  state?: { name?: string; input?: unknown; output?: unknown };
  index?: number;
  Error?: string;
  Cause?: unknown;
}

async function* simplify(events: AsyncIterable<RawEvent>): AsyncIterable<ExecutionEvent> {
  for await (const event of events) {
    yield {
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
}
