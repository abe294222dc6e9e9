import type { CutoverResult } from "../cutover/result.ts";
import type { ExecutionEnding } from "../execution-ending.ts";
import type { CutoverRun } from "../run.ts";
import { runStep } from "../step.ts";
import type { StepDeps } from "../step-deps.ts";
import type { Compensation } from "./compensate.ts";
import { publishCutover } from "./publish-cutover.ts";
import { resumeSource } from "./resume-source.ts";

/**
 * A cutover that ended where no Catch saw it (`kubeferry cancel` at the gate, the execution's
 * timeout, States.Runtime) is rolled back as its Catch path would: ResumeSource (the destination
 * back in standby, the source started again; a no-op before the quiesce) and PublishCutover with
 * the ending. Its nested syncs are stopped with it and compensated as migrations.
 */
export async function compensateCutover(
  ending: ExecutionEnding,
  run: CutoverRun,
  deps: StepDeps,
): Promise<Compensation> {
  const ran: string[] = [];
  let resume: unknown;
  let resumeError: { Error: string; Cause: string } | undefined;
  try {
    resume = await runStep(resumeSource, { run }, deps);
    ran.push(resumeSource.task);
  } catch (error) {
    deps.log.warn("compensation: ResumeSource failed", { runId: run.id, error: String(error) });
    resumeError = { Error: (error as Error).name, Cause: (error as Error).message };
  }
  const result = (await runStep(
    publishCutover,
    {
      outcome: "RolledBack",
      run,
      error: { Error: ending.detail.error ?? ending.detail.status, Cause: ending.detail.cause ?? "" },
      ...(resume === undefined ? {} : { resume }),
      ...(resumeError && { resumeError }),
    },
    deps,
  )) as CutoverResult;
  ran.push(publishCutover.task);
  // Thrown so that EventBridge's asynchronous invocation retries; ResumeSource is idempotent.
  if (resumeError) throw new Error(`${resumeError.Error}: ${resumeError.Cause}`);
  return { runId: run.id, ran, result };
}
