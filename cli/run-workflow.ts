import { randomBytes } from "node:crypto";
import type { RunResult } from "../functions/lib/workflow/run-result.ts";
import type { CliContext } from "./context.ts";
import { startWorkflow, type WorkflowName } from "./local-workflow.ts";
import { ProgressReporter } from "./progress.ts";

/** A run name that sorts by time and is unique: it labels temporary objects, so it stays short. */
export function newRunName(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15).toLowerCase();
  return `kf-${stamp}-${randomBytes(3).toString("hex")}`;
}

/**
 * Runs a workflow locally (the synthesized definition, steps in this process) showing progress,
 * and returns the result its PublishResult state published — also when the run failed.
 */
export async function runLocally(
  context: CliContext,
  workflow: WorkflowName,
  request: unknown,
  name = newRunName(),
): Promise<RunResult> {
  const execution = await startWorkflow(workflow, request, context.deps, name);
  const progress = new ProgressReporter(context.output);
  let published: RunResult | undefined;
  const watching = (async () => {
    for await (const event of execution.events) {
      progress.handle(event);
      if (
        event.type === "StateExited" &&
        event.state?.startsWith("Publish") &&
        event.state !== "PublishStarted"
      ) {
        published = (event.output as { result?: RunResult }).result;
      }
    }
  })();
  let failure: unknown;
  await execution.result.catch((error: unknown) => {
    failure = error;
  });
  await watching;
  if (published) return published;
  throw failure ?? new Error(`run ${name} ended without publishing a result`);
}
