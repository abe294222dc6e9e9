import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { ExecutionEvent } from "../functions/lib/workflow/local-runner.ts";
import type { RunResult } from "../functions/lib/workflow/run-result.ts";
import type { Compensation } from "../functions/lib/workflow/steps/compensate.ts";
import type { CliContext } from "./context.ts";
import { watchForCancel } from "./local-cancel.ts";
import { startWorkflow, type WorkflowName } from "./local-workflow.ts";
import { ProgressReporter } from "./progress.ts";

/** A run name that sorts by time and is unique: it labels temporary objects, so it stays short. */
export function newRunName(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15).toLowerCase();
  return `kf-${stamp}-${randomBytes(3).toString("hex")}`;
}

/** The result a Publish state published, when `event` is such a state's exit (a cutover's: a CutoverResult). */
export function publishedResult<Result = RunResult>(event: ExecutionEvent): Result | undefined {
  if (event.type !== "StateExited" || !event.state?.startsWith("Publish") || event.state === "PublishStarted")
    return undefined;
  return (event.output as { result?: Result }).result;
}

/**
 * Runs a workflow locally (the synthesized definition on the deployed bundles) showing
 * progress, and returns the result its PublishResult state published — also when the run
 * failed, or ended where no Catch saw it (then the compensation published it). `kubeferry
 * cancel` aborts it (local-cancel.ts). The functions' JSON logs go to `<home>/logs/<run>.log`.
 */
export async function runLocally<Result = RunResult>(
  context: CliContext,
  workflow: WorkflowName,
  request: unknown,
  name = newRunName(),
): Promise<Result> {
  const logs = join(context.home, "logs");
  await mkdir(logs, { recursive: true, mode: 0o700 });
  const log = createWriteStream(join(logs, `${name}.log`), { mode: 0o600 });
  const execution = await startWorkflow(workflow, request, name, {
    environment: context.functionEnvironment,
    location: context.location,
    log,
  });
  const stopWatching = await watchForCancel(context.home, name, () => execution.abort());
  const progress = new ProgressReporter(context.output);
  let published: Result | undefined;
  const watching = (async () => {
    for await (const event of execution.events) {
      progress.handle(event);
      published = publishedResult<Result>(event) ?? published;
    }
  })();
  const outcome = await execution.result.finally(stopWatching);
  await watching;
  await new Promise((resolve) => log.end(resolve));
  if (published) return published;
  // An ending no Catch saw (cancel, timeout): the compensation published the result.
  const compensated = outcome.status !== "SUCCEEDED" ? outcome.compensation : undefined;
  if (compensated && "output" in compensated) {
    const result = (compensated.output as Compensation).result;
    if (result) return result as Result;
  }
  const reason = outcome.status === "SUCCEEDED" ? "" : `: ${outcome.error} ${outcome.cause}`;
  throw new Error(`run ${name} ended ${outcome.status} without publishing a result${reason}`);
}
