import { z } from "zod";
import type { BlobStore } from "../repository/blob-store.ts";
import { isTransientError } from "../repository/transient-errors.ts";

/**
 * A range that fails inside a Distributed Map fails only its child execution; the Map Run then
 * fails with States.ExceedToleratedFailureThreshold, and that is all the parent's Catch sees
 * (the child's error stays in the child's history). So a range step records its own error under
 * the run's prefix before it fails, and PublishResult names it in the run's result.
 */
export const mapRunFailedError = "States.ExceedToleratedFailureThreshold";

const rangeFailureSchema = z.object({
  task: z.string(),
  namespace: z.string(),
  pvc: z.string(),
  range: z.number().int().nonnegative(),
  error: z.string(),
  message: z.string(),
});
type RangeFailure = z.infer<typeof rangeFailureSchema>;

export interface FailingRange {
  runId: string;
  task: "StageRange" | "RestoreRange";
  /** The source PVC, as in the plans. */
  namespace: string;
  pvc: string;
  range: number;
}

const prefixOf = (runId: string) => `runs/${runId}/failures/`;

/**
 * Runs one range's work; an error the Task does not retry is recorded before it is rethrown.
 * Transient errors are left out: the retry that follows may succeed, and a stale record would
 * then name a range that did not fail the run.
 */
export async function recordingRangeFailure<T>(
  store: BlobStore,
  range: FailingRange,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!isTransientError(error)) {
      const failure: RangeFailure = {
        task: range.task,
        namespace: range.namespace,
        pvc: range.pvc,
        range: range.range,
        error: error instanceof Error ? error.name : "Error",
        message: error instanceof Error ? error.message : String(error),
      };
      const index = String(range.range).padStart(6, "0");
      await store.put(
        `${prefixOf(range.runId)}${range.task}/${range.namespace}/${range.pvc}/${index}.json`,
        Buffer.from(JSON.stringify(failure)),
      );
    }
    throw error;
  }
}

/**
 * A Map Run's failure (mapRunFailedError) with the first failed range's own error in its place (key order: task,
 * volume, range), and how many ranges failed; the error as it was when no range recorded one.
 */
export async function withRangeFailure(
  store: BlobStore,
  runId: string,
  error: { Error: string; Cause?: string | undefined },
): Promise<{ Error: string; Cause?: string | undefined }> {
  let first: RangeFailure | undefined;
  let count = 0;
  for await (const info of store.list(prefixOf(runId))) {
    count += 1;
    if (first !== undefined) continue;
    const body = await store.get(info.key);
    if (body !== undefined) first = rangeFailureSchema.parse(JSON.parse(body.toString("utf8")));
  }
  if (first === undefined) return error;
  const more = count > 1 ? `; ${count} ranges failed` : "";
  return {
    Error: first.error,
    Cause: `${first.message} (${first.task} of ${first.namespace}/${first.pvc}, range ${first.range}${more})`,
  };
}
