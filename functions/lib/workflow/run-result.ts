import { z } from "zod";
import {
  type DrillCheck,
  drillCheckSchema,
  drillPlannedSchema,
  type HealthCheckOutcome,
} from "./drill/drill-state.ts";
import { runSchema } from "./run.ts";
import { volumeListSchema } from "./volume-state.ts";

/**
 * The parts of the workflow state that the final result is built from. Each is the output of
 * one step (its ResultPath in the ASL); steps build them with these schemas' types, and
 * PublishResult reads them back with these schemas.
 */
export const objectStatusSchema = z.enum(["Successful", "Skipped", "Failed", "WouldCreate", "WouldUpdate"]);

export const applyOutcomeSchema = z.object({
  status: z.enum(["Successful", "PartialSuccess", "Failed"]),
  /** Objects by their per-object status. */
  objects: z.record(z.string(), z.number().int().nonnegative()),
  /** A few failed objects with the server's reason; the run record has all of them. */
  failures: z.array(z.string()).max(20),
});

/** What staging added to the repository, summed (per volume: the run record). */
export const commitOutcomeSchema = z.object({
  bytesStaged: z.number().int().nonnegative(),
  chunksUploaded: z.number().int().nonnegative(),
});

/** One restored volume (destination names) with what staging its source added to the repository. */
export const volumeReportSchema = z.object({
  namespace: z.string(),
  name: z.string(),
  bytes: z.number().int().nonnegative(),
  bytesWritten: z.number().int().nonnegative(),
  chunksWritten: z.number().int().nonnegative(),
  bytesStaged: z.number().int().nonnegative(),
  chunksUploaded: z.number().int().nonnegative(),
  /** FinalizeVolumes compared the digests (a mismatch fails the run before any report). */
  verified: z.literal(true),
});

/** `$.volumes`: the run's list of volume reports (`volumeReportSchema`), verified and bound. */
export const finalizeOutcomeSchema = z.object({ volumes: volumeListSchema });

/**
 * The result (state and event) names at most this many volumes; `volumeCount` says how many
 * there are, and `kubeferry status` reads all of them from the run record.
 */
export const reportedVolumes = 100;

const stepError = z.object({ Error: z.string(), Cause: z.string().optional() });

/**
 * How a run ended where no Catch saw it (the compensation publishes these): Failed (e.g.
 * States.DataLimitExceeded), TimedOut (the execution's timeout), Aborted (StopExecution, cancel).
 */
export const endingOutcomeSchema = z.enum(["Failed", "TimedOut", "Aborted"]);

export const publishInputSchema = z.object({
  outcome: z.enum(["Started", "Skipped", "Rejected", ...endingOutcomeSchema.options]).optional(),
  run: runSchema.optional(),
  /** The raw request, when ValidateRequest refused it. */
  request: z.unknown().optional(),
  error: stepError.optional(),
  lock: z.object({ heldBy: z.string().optional(), lock: z.string().optional() }).passthrough().optional(),
  commit: commitOutcomeSchema.optional(),
  volumes: finalizeOutcomeSchema.optional(),
  apply: applyOutcomeSchema.optional(),
  /** A drill's plan (PlanDrill) and its last look at the scratch copy (CheckDrill). */
  drill: drillPlannedSchema.optional(),
  drillCheck: drillCheckSchema.optional(),
});

export const runStatusSchema = z.enum([
  "Started",
  "Successful",
  "PartialSuccess",
  "Failed",
  "Skipped",
  "TimedOut",
  "Aborted",
]);
export type RunStatus = z.infer<typeof runStatusSchema>;

export type PublishInput = z.output<typeof publishInputSchema>;
export type ApplyOutcome = z.infer<typeof applyOutcomeSchema>;
export type CommitOutcome = z.infer<typeof commitOutcomeSchema>;
export type FinalizeOutcome = z.infer<typeof finalizeOutcomeSchema>;
export type VolumeReport = z.infer<typeof volumeReportSchema>;

export interface RunResult {
  status: RunStatus;
  runId: string | null;
  pair: string | null;
  namespaces: string[];
  objects: Record<string, number>;
  /** The first `reportedVolumes` restored volumes. */
  volumes: VolumeReport[];
  volumeCount: number;
  bytesStaged: number;
  chunksUploaded: number;
  durationSeconds: number;
  error: string | null;
  /** Only for a drill (request `drill`). */
  drill?: DrillOutcome;
}

/** How a drill went: passed only when the run is Successful, which needs every health check passed. */
export interface DrillOutcome {
  passed: boolean;
  /** The committed run restored (null: the drill failed before choosing one). */
  restoredRun: string | null;
  /** From the start of the restore until the workloads were ready and the checks passed. */
  timeToReadySeconds: number | null;
  checks: HealthCheckOutcome[];
}

/**
 * The run's overall status: any failed step fails it; refused objects make it partial, never
 * Successful. `volumes` is the run's list of volume reports, read back from the repository.
 */
export function runResult(input: PublishInput, now: Date, volumes: readonly VolumeReport[] = []): RunResult {
  const request = input.run?.request ?? requestFields(input.request);
  const startedAt = input.run ? Date.parse(input.run.startedAt) : now.getTime();
  const status = statusOf(input);
  const isDrill = "drill" in request && request.drill !== undefined;
  return {
    status,
    runId: input.run?.id ?? null,
    pair: request.pair,
    namespaces: request.namespaces,
    objects: input.apply?.objects ?? {},
    volumes: volumes.slice(0, reportedVolumes),
    volumeCount: input.volumes?.volumes.count ?? 0,
    bytesStaged: input.commit?.bytesStaged ?? 0,
    chunksUploaded: input.commit?.chunksUploaded ?? 0,
    durationSeconds: Math.max(0, Math.round((now.getTime() - startedAt) / 1000)),
    error: errorText(input),
    ...(isDrill ? { drill: drillOutcome(input, status) } : {}),
  };
}

function drillOutcome(input: PublishInput, status: RunStatus): DrillOutcome {
  const check: DrillCheck | undefined = input.drillCheck;
  return {
    passed: status === "Successful",
    restoredRun: input.drill?.restoredRun ?? null,
    timeToReadySeconds: check?.passed ? (check.timeToReadySeconds ?? null) : null,
    checks: check?.checks ?? [],
  };
}

function statusOf(input: PublishInput): RunStatus {
  if (input.outcome === "Rejected") return "Failed";
  if (input.outcome !== undefined) return input.outcome;
  if (input.error) return "Failed";
  if (input.drillCheck?.passed === false) return "Failed";
  return input.apply?.status ?? "Successful";
}

function errorText(input: PublishInput): string | null {
  if (input.error) return `${input.error.Error}: ${causeMessage(input.error.Cause)}`;
  if (input.drillCheck?.passed === false) return `DrillFailed: ${input.drillCheck.problem ?? "(no detail)"}`;
  if (input.outcome === "Skipped" && input.lock?.heldBy) {
    return `skipped: ${input.lock.lock ?? "the lock"} is held by ${input.lock.heldBy}`;
  }
  if (input.apply?.status === "PartialSuccess") return input.apply.failures.join("; ");
  return null;
}

/** Lambda puts `{"errorType", "errorMessage", …}` JSON in Cause; show only the message. */
function causeMessage(cause: string | undefined): string {
  if (cause === undefined) return "(no detail)";
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    return typeof parsed.errorMessage === "string" ? parsed.errorMessage : cause;
  } catch {
    return cause;
  }
}

/** What a refused request still says: its pair, namespaces, and whether it asked for a drill (a refused drill is a failed one). */
export function requestFields(raw: unknown): { pair: string | null; namespaces: string[]; drill?: unknown } {
  const fields = z
    .object({
      pair: z.string().catch(""),
      namespaces: z.array(z.string()).catch([]),
      drill: z.unknown().optional(),
    })
    .catch({ pair: "", namespaces: [], drill: undefined })
    .parse(raw ?? {});
  return {
    pair: fields.pair || null,
    namespaces: fields.namespaces,
    ...(fields.drill === undefined ? {} : { drill: fields.drill }),
  };
}
