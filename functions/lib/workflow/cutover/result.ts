import { z } from "zod";
import { cutoverRunSchema } from "../run.ts";
import { requestFields, runStatusSchema, volumeReportSchema } from "../run-result.ts";
import { cutoverRejectedError } from "./approvals.ts";

/** What the cutover machine keeps of a sync's (a nested migration's) published result. */
export const syncOutcomeSchema = z.object({
  status: runStatusSchema,
  result: z
    .object({
      runId: z.string().nullable(),
      status: runStatusSchema,
      volumes: z.array(volumeReportSchema),
      volumeCount: z.number().int().nonnegative(),
      bytesStaged: z.number().int().nonnegative(),
      chunksUploaded: z.number().int().nonnegative(),
      durationSeconds: z.number().nonnegative(),
      error: z.string().nullable(),
    })
    .passthrough(),
});

export type SyncOutcome = z.infer<typeof syncOutcomeSchema>;

/** `$.quiesce`: QuiesceSource's output. */
export const quiesceOutcomeSchema = z.object({
  cluster: z.string(),
  /** When the source stopped serving: the quiesce hooks started (or the scale-down, without hooks). */
  quiescedAt: z.string(),
  workloads: z.array(z.string()),
  hooks: z.number().int().nonnegative(),
});

/** `$.activation`: ActivateDestination's output, also while it waits for readiness. */
export const activationOutcomeSchema = z.object({
  cluster: z.string(),
  activatedAt: z.string(),
  ready: z.boolean(),
  /** Workloads not ready yet, e.g. "StatefulSet ledger/ledger 0/1 ready". */
  waitingFor: z.array(z.string()),
  readyAt: z.string().optional(),
  downtimeSeconds: z.number().nonnegative().optional(),
});

const stepError = z.object({ Error: z.string(), Cause: z.string().optional() });

/** `$.error` names a person's answer, or a timeout of the gate, as the machine's Catch put it. */
export const approvalTimedOutError = "ApprovalTimedOut";

export const cutoverPublishInputSchema = z.object({
  outcome: z.enum(["Started", "Succeeded", "RolledBack", "NotStarted", "Invalid"]),
  run: cutoverRunSchema.optional(),
  /** The raw request, when ValidateCutover refused it. */
  request: z.unknown().optional(),
  error: stepError.optional(),
  /** ResumeSource's own failure: the source may still be at 0. */
  resumeError: stepError.optional(),
  firstSync: syncOutcomeSchema.optional(),
  finalSync: syncOutcomeSchema.optional(),
  quiesce: quiesceOutcomeSchema.optional(),
  activation: activationOutcomeSchema.optional(),
  resume: z.object({ cluster: z.string(), resumed: z.array(z.string()) }).optional(),
});

export type CutoverPublishInput = z.output<typeof cutoverPublishInputSchema>;
export type CutoverStatus = "Started" | "Successful" | "Rejected" | "TimedOut" | "Failed";

export interface CutoverResult {
  status: CutoverStatus;
  runId: string | null;
  pair: string | null;
  namespaces: string[];
  quiescedAt: string | null;
  readyAt: string | null;
  /** Source quiesced → destination ready; null unless the destination became ready. */
  downtimeSeconds: number | null;
  /** The final sync's volumes, each verified against the source's snapshot. */
  volumes: SyncOutcome["result"]["volumes"];
  finalSyncRunId: string | null;
  /** Whether compensation started the source again. */
  sourceResumed: boolean;
  durationSeconds: number;
  error: string | null;
}

export function cutoverResult(input: CutoverPublishInput, now: Date): CutoverResult {
  const request = input.run?.request ?? requestFields(input.request);
  const startedAt = input.run ? Date.parse(input.run.startedAt) : now.getTime();
  const activation = input.activation?.ready ? input.activation : undefined;
  return {
    status: statusOf(input),
    runId: input.run?.id ?? null,
    pair: request.pair,
    namespaces: request.namespaces,
    quiescedAt: input.quiesce?.quiescedAt ?? null,
    readyAt: activation?.readyAt ?? null,
    downtimeSeconds: activation?.downtimeSeconds ?? null,
    volumes: input.finalSync?.result.volumes ?? [],
    finalSyncRunId: input.finalSync?.result.runId ?? null,
    sourceResumed: input.resume !== undefined && input.resumeError === undefined,
    durationSeconds: Math.max(0, Math.round((now.getTime() - startedAt) / 1000)),
    error: errorText(input),
  };
}

function errorText(input: CutoverPublishInput): string | null {
  const text = (error: { Error: string; Cause?: string | undefined }) =>
    `${error.Error}: ${error.Cause ?? "(no detail)"}`;
  const resume = input.resumeError
    ? `the source was NOT started again (${text(input.resumeError)}); start it with kubeferry activate --side source`
    : undefined;
  const reasons = [input.error && text(input.error), resume].filter((reason) => reason !== undefined);
  return reasons.length > 0 ? reasons.join("; ") : null;
}

function statusOf(input: CutoverPublishInput): CutoverStatus {
  if (input.outcome === "Started") return "Started";
  if (input.outcome === "Succeeded") return "Successful";
  if (input.error?.Error === cutoverRejectedError) return "Rejected";
  if (input.error?.Error === approvalTimedOutError) return "TimedOut";
  return "Failed";
}
