import { ExecutionAbortedError, StateMachine } from "aws-local-stepfunctions";
import type { BlobStore } from "../../repository/blob-store.ts";
import { checkPayload, DataLimitExceeded, maxPayloadBytes, payloadBytes } from "./payload-limit.ts";
import { resolveReferencePath, StatesRuntimeError } from "./reference-path.ts";
import type { AslDefinition, AslState } from "./time-scale.ts";

/**
 * The part of a Distributed Map that aws-local-stepfunctions does not run — ItemReader and
 * ItemBatcher — run by the local runner, for exactly the subset the workflow uses:
 *
 * - ItemReader `arn:aws:states:::s3:getObject` with `ReaderConfig.InputType: JSON` and
 *   Parameters Bucket and Key (values or reference paths into the Map's input): the object is a
 *   JSON array, one item per element, read from the bucket the runner is given (the store the
 *   steps write to);
 * - ItemBatcher with MaxItemsPerBatch and BatchInput (values or reference paths): each child
 *   execution gets `{"Items": [...], "BatchInput": {...}}`;
 * - MaxConcurrency, ToleratedFailurePercentage 0, InputPath, ResultSelector, ResultPath,
 *   OutputPath, Retry, Catch.
 *
 * Any other field of such a Map is refused when the execution starts, so a local run never
 * silently differs from AWS. As in AWS, each child execution's input is held to the payload
 * quota, the Map's result (the array of the children's outputs) too, and one failed child fails
 * the Map Run with States.ExceedToleratedFailureThreshold — the child's own error stays in its
 * execution (https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html);
 * the rest are stopped.
 */

/** The bucket ItemReaders may read and a store at its root. */
export interface ItemSource {
  bucket: string;
  store: BlobStore;
}

const mapFields = new Set([
  "Type",
  // The library's validation writes the definition's query language into each state.
  "QueryLanguage",
  "Comment",
  "ItemReader",
  "ItemBatcher",
  "ItemProcessor",
  "MaxConcurrency",
  "ToleratedFailurePercentage",
  "InputPath",
  "ResultSelector",
  "ResultPath",
  "OutputPath",
  "Retry",
  "Catch",
  "Next",
  "End",
]);

export class ExceedToleratedFailureThreshold extends Error {
  override readonly name = "States.ExceedToleratedFailureThreshold";
}

export class ItemReaderFailed extends Error {
  override readonly name = "States.ItemReaderFailed";
}

/** Whether a state is a Map that reads or batches its items, which the runner runs itself. */
export function readsItems(state: AslState): boolean {
  return state.Type === "Map" && (state.ItemReader !== undefined || state.ItemBatcher !== undefined);
}

/** Throws naming the state and field when the Map uses anything the runner does not implement. */
export function checkSupported(name: string, state: AslState): void {
  const refuse = (field: string, what: string) => {
    throw new Error(
      `${name}.${field}: ${what} is not supported by the local runner (see distributed-map.ts)`,
    );
  };
  for (const field of Object.keys(state))
    if (!mapFields.has(field)) refuse(field, "this field of a reading Map");
  if ((state.QueryLanguage ?? "JSONPath") !== "JSONPath") refuse("QueryLanguage", `${state.QueryLanguage}`);
  if ((state.ToleratedFailurePercentage ?? 0) !== 0)
    refuse("ToleratedFailurePercentage", "a value other than 0");
  const reader = state.ItemReader as Record<string, unknown> | undefined;
  if (reader === undefined) refuse("ItemReader", "a batching Map without ItemReader");
  for (const field of Object.keys(reader ?? {})) {
    if (!["Resource", "ReaderConfig", "Parameters"].includes(field))
      refuse(`ItemReader.${field}`, "this field");
  }
  if (reader?.Resource !== "arn:aws:states:::s3:getObject")
    refuse("ItemReader.Resource", `${reader?.Resource}`);
  if (JSON.stringify(reader?.ReaderConfig) !== JSON.stringify({ InputType: "JSON" })) {
    refuse("ItemReader.ReaderConfig", "anything but {InputType: JSON}");
  }
  const parameters = (reader?.Parameters ?? {}) as Record<string, unknown>;
  for (const field of Object.keys(parameters)) {
    if (!["Bucket", "Bucket.$", "Key", "Key.$"].includes(field))
      refuse(`ItemReader.Parameters.${field}`, "this field");
  }
  checkTemplate(name, "ItemReader.Parameters", parameters);
  const batcher = state.ItemBatcher as Record<string, unknown> | undefined;
  if (batcher === undefined) refuse("ItemBatcher", "a reading Map without ItemBatcher");
  for (const field of Object.keys(batcher ?? {})) {
    if (!["MaxItemsPerBatch", "BatchInput"].includes(field)) refuse(`ItemBatcher.${field}`, "this field");
  }
  const size = batcher?.MaxItemsPerBatch;
  if (!Number.isInteger(size) || (size as number) < 1) refuse("ItemBatcher.MaxItemsPerBatch", `${size}`);
  checkTemplate(name, "ItemBatcher.BatchInput", (batcher?.BatchInput ?? {}) as Record<string, unknown>);
}

/** Payload templates here are values and reference paths into the Map's input: no `$$`, no intrinsic functions. */
function checkTemplate(name: string, field: string, template: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(template)) {
    if (key.endsWith(".$")) {
      if (typeof value !== "string" || !/^\$(?:[.[]|$)/.test(value) || value.includes("(")) {
        throw new Error(
          `${name}.${field}.${key}: ${JSON.stringify(value)} is not supported by the local runner: use a reference path into the state input ($.a.b)`,
        );
      }
    } else if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      checkTemplate(name, `${field}.${key}`, value as Record<string, unknown>);
    }
  }
}

function applyTemplate(template: Record<string, unknown>, input: unknown): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(template).map(([key, value]) => {
      if (key.endsWith(".$")) return [key.slice(0, -2), resolveReferencePath(value as string, input)];
      if (value !== null && typeof value === "object" && !Array.isArray(value)) {
        return [key, applyTemplate(value as Record<string, unknown>, input)];
      }
      return [key, value];
    }),
  );
}

/** The Task state that stands for the Map in the definition the library runs: the same input and output processing, Retry and Catch. */
export function standInTask(state: AslState, timeoutSeconds: number): AslState {
  const kept = [
    "Comment",
    "InputPath",
    "ResultSelector",
    "ResultPath",
    "OutputPath",
    "Retry",
    "Catch",
    "Next",
    "End",
  ];
  return {
    Type: "Task",
    Resource: "arn:aws:states:::kubeferry:local-distributed-map",
    TimeoutSeconds: timeoutSeconds,
    ...Object.fromEntries(kept.filter((field) => field in state).map((field) => [field, state[field]])),
  };
}

/** A child execution's event, for the root's event log. */
export interface ChildEvent {
  type: string;
  timestamp: number;
  state?: { name?: string; input?: unknown; output?: unknown };
  index?: number;
  Error?: string;
  Cause?: unknown;
}

export interface DistributedMapRun {
  name: string;
  state: AslState;
  /** The (time-scaled) item processor the children run. */
  processor: AslDefinition;
  source: ItemSource | undefined;
  /** The library's run options of the root execution (overrides, context, the limits guard). */
  runOptions: Record<PropertyKey, unknown>;
  onEvent(event: ChildEvent): void;
  /** Registers a running child's abort; the returned function unregisters it. */
  track(abort: () => void): () => void;
}

/** Runs one Distributed Map: reads and batches its items, runs a child execution per batch, returns their outputs. */
export async function runDistributedMap(run: DistributedMapRun, input: unknown): Promise<unknown[]> {
  const { name, state } = run;
  const items = await readItems(run, input);
  const batcher = state.ItemBatcher as { MaxItemsPerBatch: number; BatchInput?: Record<string, unknown> };
  const batchInput = applyTemplate(batcher.BatchInput ?? {}, input);
  const children: unknown[] = [];
  for (let start = 0; start < items.length; start += batcher.MaxItemsPerBatch) {
    const child = { Items: items.slice(start, start + batcher.MaxItemsPerBatch), BatchInput: batchInput };
    checkPayload(child, `The input of a child execution of Map state '${name}'`);
    children.push(child);
  }
  const machine = new StateMachine(run.processor as never, { validationOptions: { noValidate: true } });
  const outputs: unknown[] = new Array(children.length);
  const running = new Set<() => void>();
  let failure: Error | undefined;
  let next = 0;
  let resultBytes = 1;
  const worker = async () => {
    while (failure === undefined && next < children.length) {
      const index = next++;
      const execution = machine.run(children[index] as never, run.runOptions as never);
      const untrack = run.track(execution.abort);
      running.add(execution.abort);
      const forwarding = forward(execution.eventLogs as AsyncIterable<ChildEvent>, index, name, run.onEvent);
      try {
        outputs[index] = await execution.result;
        resultBytes += payloadBytes(outputs[index]) + 1;
        if (resultBytes > maxPayloadBytes) {
          throw new DataLimitExceeded(
            `The result of Map state '${name}' has a size of more than ${resultBytes} bytes, exceeding the maximum number of bytes service limit (${maxPayloadBytes})`,
          );
        }
      } catch (error) {
        failure ??= mapRunFailure(error);
        for (const abort of running) abort();
      } finally {
        running.delete(execution.abort);
        untrack();
        await forwarding;
      }
    }
  };
  const concurrency = (state.MaxConcurrency as number | undefined) || defaultConcurrency;
  await Promise.all(Array.from({ length: Math.min(concurrency, children.length) }, worker));
  if (failure) throw failure;
  return outputs;
}

// AWS runs up to 10,000 children at once when MaxConcurrency is 0 or absent; a local machine cannot.
const defaultConcurrency = 40;

function mapRunFailure(error: unknown): Error {
  if (error instanceof DataLimitExceeded || error instanceof ExecutionAbortedError) return error;
  // As in AWS, the Map's error names the threshold, not the child's error: that is in the child's history (its events).
  return new ExceedToleratedFailureThreshold("The specified tolerated failure threshold was exceeded");
}

async function readItems(run: DistributedMapRun, input: unknown): Promise<unknown[]> {
  const reader = run.state.ItemReader as { Parameters: Record<string, unknown> };
  const { Bucket, Key } = applyTemplate(reader.Parameters, input);
  if (run.source === undefined) {
    throw new StatesRuntimeError(`${run.name}: the local runner was given no bucket to read items from`);
  }
  if (Bucket !== run.source.bucket) {
    throw new ItemReaderFailed(
      `${run.name}: reads bucket ${String(Bucket)}; this local run has only ${run.source.bucket}`,
    );
  }
  const data = await run.source.store.get(String(Key));
  if (data === undefined)
    throw new ItemReaderFailed(`${run.name}: s3://${Bucket}/${String(Key)} does not exist`);
  let items: unknown;
  try {
    items = JSON.parse(data.toString("utf8"));
  } catch (error) {
    throw new ItemReaderFailed(
      `${run.name}: s3://${Bucket}/${String(Key)} is not JSON: ${(error as Error).message}`,
    );
  }
  if (!Array.isArray(items)) {
    throw new ItemReaderFailed(`${run.name}: s3://${Bucket}/${String(Key)} is not a JSON array`);
  }
  return items;
}

/** A child's state events as the library forwards an inline Map iteration's; its start and end as iteration events. */
async function forward(
  events: AsyncIterable<ChildEvent>,
  index: number,
  name: string,
  onEvent: (event: ChildEvent) => void,
): Promise<void> {
  const iteration: Record<string, string> = {
    ExecutionStarted: "MapIterationStarted",
    ExecutionSucceeded: "MapIterationSucceeded",
    ExecutionFailed: "MapIterationFailed",
  };
  for await (const event of events) {
    const renamed = iteration[event.type];
    if (renamed) onEvent({ ...event, type: renamed, index, state: { name } });
    else if (event.type.startsWith("State") || event.type.startsWith("Map")) onEvent({ ...event, index });
  }
}
