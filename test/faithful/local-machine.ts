import { join } from "node:path";
import { localFunctionArn } from "../../functions/lib/workflow/local-runner/cloud-assembly.ts";
import type { ItemSource } from "../../functions/lib/workflow/local-runner/distributed-map.ts";
import { LambdaSandboxes } from "../../functions/lib/workflow/local-runner/lambda-sandboxes.ts";
import type { AslDefinition } from "../../functions/lib/workflow/local-runner/time-scale.ts";
import {
  type ExecutionEvent,
  type ExecutionOutcome,
  type LocalExecution,
  type LocalExecutionOptions,
  startLocalExecution,
} from "../../functions/lib/workflow/local-runner.ts";

/** The tiny functions of test/faithful/functions, each deployed with a timeout of its own. */
const functionsDir = join(import.meta.dirname, "functions");

const names = ["echo", "slow", "fail", "hog"] as const;
export const fn = (name: (typeof names)[number]) => localFunctionArn(name);

const pools: LambdaSandboxes[] = [];

/** Ends every sandbox the runs started, including functions still working after a timeout. */
export async function closeSandboxes(): Promise<void> {
  await Promise.all(pools.splice(0).map((pool) => pool.close()));
}

export interface FaithfulRun {
  outcome: ExecutionOutcome;
  events: ExecutionEvent[];
  entered: string[];
}

/** Runs a small definition on the local runner with the tiny functions, at the given time scale. */
export function runMachine(
  definition: AslDefinition,
  input: unknown,
  options: {
    timeScale: number;
    functionTimeoutSeconds?: number;
    memoryMiB?: number;
    onStart?: (execution: LocalExecution) => void;
    items?: ItemSource;
    compensate?: LocalExecutionOptions["compensate"];
  },
): Promise<FaithfulRun> {
  const sandboxes = new LambdaSandboxes(
    Object.fromEntries(
      names.map((name) => [
        name,
        {
          name,
          bundle: join(functionsDir, `${name}.mjs`),
          handlerExport: "handler",
          timeoutSeconds: options.functionTimeoutSeconds ?? 900,
          memoryMiB: options.memoryMiB ?? 128,
          environment: {},
        },
      ]),
    ),
    { timeScale: options.timeScale },
  );
  pools.push(sandboxes);
  const execution = startLocalExecution(
    definition,
    input,
    (name, payload) => sandboxes.invoke(name, payload),
    `faithful-${Date.now()}`,
    {
      timeScale: options.timeScale,
      ...(options.items && { items: options.items }),
      ...(options.compensate && { compensate: options.compensate }),
    },
  );
  options.onStart?.(execution);
  return collectRun(execution);
}

/** Waits for an execution's end, with every event it had and the states it entered, in order. */
export async function collectRun(
  execution: LocalExecution,
  onEvent: (event: ExecutionEvent) => void = () => {},
): Promise<FaithfulRun> {
  const events: ExecutionEvent[] = [];
  const collecting = (async () => {
    for await (const event of execution.events) {
      events.push(event);
      onEvent(event);
    }
  })();
  const outcome = await execution.result;
  await collecting;
  return {
    outcome,
    events,
    entered: events.filter((event) => event.type === "StateEntered").map((event) => event.state as string),
  };
}
