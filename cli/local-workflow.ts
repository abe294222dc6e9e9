import type { Writable } from "node:stream";
import {
  localStateMachineArnOf,
  readCloudAssembly,
  resolveEnvironment,
} from "../functions/lib/workflow/local-runner/cloud-assembly.ts";
import { LambdaSandboxes } from "../functions/lib/workflow/local-runner/lambda-sandboxes.ts";
import { type AslDefinition, timeScaleFrom } from "../functions/lib/workflow/local-runner/time-scale.ts";
import {
  type LocalExecution,
  type LocalExecutionOptions,
  type LocalTaskInvoker,
  startLocalExecution,
} from "../functions/lib/workflow/local-runner.ts";
import {
  bucketStore,
  type RepositoryLocation,
  rootStore,
} from "../functions/lib/workflow/repository-location.ts";
import { StoreTaskAnswers } from "../functions/lib/workflow/task-answers.ts";
import { synthesizedAssembly } from "./cloud-assembly-cache.ts";

export type WorkflowName = "migrate" | "activate" | "cutover";

const machinePrefixes: Record<WorkflowName, string> = {
  migrate: "Migration",
  activate: "Activation",
  cutover: "Cutover",
};

export interface WorkflowOptions {
  /**
   * The functions' environment for this run: a value for each variable only CloudFormation can
   * resolve (bucket, key, bus), the AWS endpoints and credentials; null leaves a variable unset.
   */
  environment: Record<string, string | null>;
  /** Default: KUBEFERRY_TIME_SCALE, else 1. */
  timeScale?: number;
  /** Where the repositories are: a Map's ItemReader reads the run's plans from there. */
  location: RepositoryLocation;
  /** Where the functions' own output (their JSON logs) goes; dropped by default, as nobody reads CloudWatch here. */
  log?: Writable;
}

/** A synthesized workflow ready to run locally: its definition, how its Tasks are invoked, the runner's options. */
export interface LocalWorkflow {
  definition: AslDefinition;
  invoke: LocalTaskInvoker;
  options: LocalExecutionOptions;
  /** Stops the function sandboxes. */
  close(): Promise<void>;
}

/**
 * A workflow exactly as synthesized for AWS: the definition asset and its substitutions, every
 * Task invoking its function's deployed bundle in a local sandbox.
 */
export async function loadWorkflow(workflow: WorkflowName, options: WorkflowOptions): Promise<LocalWorkflow> {
  const assembly = await synthesizedAssembly();
  const items = bucketStore(options.location);
  const { stateMachines, functions } = readCloudAssembly(assembly.dir, assembly.stackName, {
    StagingBucketName: items.bucket,
  });
  const machine = stateMachines.find((m) => m.logicalId.startsWith(machinePrefixes[workflow]));
  if (!machine) throw new Error(`the synthesized stack has no ${machinePrefixes[workflow]} state machine`);
  const timeScale = options.timeScale ?? timeScaleFrom();
  const sandboxes = new LambdaSandboxes(
    Object.fromEntries(
      Object.values(functions).map((fn) => [
        fn.task,
        { ...fn, name: fn.task, environment: resolveEnvironment(fn, options.environment) },
      ]),
    ),
    { timeScale, ...(options.log && { log: options.log }) },
  );
  return {
    definition: machine.definition,
    invoke: (name, payload) => sandboxes.invoke(name, payload),
    // The deployed compensation function, as the rule on the execution's ending invokes it in AWS.
    options: {
      timeScale,
      items,
      compensate: (event) => sandboxes.invoke("Compensate", event),
      // A cutover's syncs run the synthesized migration machine; `kubeferry approve` answers its gate in the store.
      stateMachines: Object.fromEntries(
        stateMachines.map((m) => [localStateMachineArnOf(m.logicalId), m.definition]),
      ),
      taskAnswers: new StoreTaskAnswers(rootStore(options.location)),
    },
    close: () => sandboxes.close(),
  };
}

/** Starts a loaded workflow; steps still running after the end (a timed-out Task) stop with its sandboxes. */
export function startLoadedWorkflow(
  loaded: LocalWorkflow,
  input: unknown,
  executionName: string,
): LocalExecution {
  const execution = startLocalExecution(
    loaded.definition,
    input,
    loaded.invoke,
    executionName,
    loaded.options,
  );
  return { ...execution, result: execution.result.finally(() => loaded.close()) };
}

export async function startWorkflow(
  workflow: WorkflowName,
  input: unknown,
  executionName: string,
  options: WorkflowOptions,
): Promise<LocalExecution> {
  return startLoadedWorkflow(await loadWorkflow(workflow, options), input, executionName);
}
