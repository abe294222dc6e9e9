import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type ExecutionEvent,
  loadStateMachines,
  startLocalExecution,
} from "../functions/lib/workflow/local-runner.ts";
import { runStep } from "../functions/lib/workflow/step.ts";
import type { StepDeps } from "../functions/lib/workflow/step-deps.ts";
import { steps } from "../functions/lib/workflow/steps/index.ts";
import { kubeferryApp } from "../infra/kubeferry-app.ts";

export type WorkflowName = "migrate" | "activate";

let synthesized:
  | Promise<Record<WorkflowName, ReturnType<typeof loadStateMachines>[number]["definition"]>>
  | undefined;

/**
 * The definitions exactly as `cdk synth` produces them for AWS (the ASL asset and its
 * substitutions), synthesized once per process. Bundling is skipped: locally the Tasks run
 * the step code in this process.
 */
function definitions() {
  synthesized ??= (async () => {
    const outdir = mkdtempSync(join(tmpdir(), "kubeferry-synth-"));
    const { app, stack } = kubeferryApp({ outdir, context: { "aws:cdk:bundling-stacks": [] } });
    app.synth();
    const machines = loadStateMachines(outdir, stack.artifactId);
    const find = (prefix: string) => {
      const machine = machines.find((m) => m.logicalId.startsWith(prefix));
      if (!machine) throw new Error(`the synthesized stack has no ${prefix} state machine`);
      return machine.definition;
    };
    return { migrate: find("Migration"), activate: find("Activation") };
  })();
  return synthesized;
}

export interface LocalRun {
  result: Promise<unknown>;
  events: AsyncIterable<ExecutionEvent>;
}

/** Starts the synthesized workflow locally, every Task running its step with the given dependencies. */
export async function startWorkflow(
  workflow: WorkflowName,
  input: unknown,
  deps: StepDeps,
  executionName: string,
  options: { waitSeconds?: number } = {},
): Promise<LocalRun> {
  const definition = (await definitions())[workflow];
  return startLocalExecution(
    definition,
    input,
    (task, taskInput) => runStep(steps[task], taskInput, deps),
    executionName,
    options,
  );
}
