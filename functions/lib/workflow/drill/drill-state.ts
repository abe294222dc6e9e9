import { z } from "zod";
import { planSummarySchema } from "../volume-state.ts";

/** `$.drill`: what PlanDrill chose to restore; `plan` goes on to the restore states as `$.plan`. */
export const drillPlannedSchema = z.object({
  /** The committed run whose manifests and plans the drill restores. */
  restoredRun: z.string().min(1),
  /** Time to ready counts from here: the start of the restore. */
  restoreStartedAt: z.iso.datetime(),
  scratchNamespaces: z.array(z.string()),
  plan: planSummarySchema,
});
export type DrillPlanned = z.infer<typeof drillPlannedSchema>;

/** One health check's run in one pod; the output (a masked tail) only when it failed. */
export const healthCheckOutcomeSchema = z.object({
  namespace: z.string(),
  pod: z.string(),
  container: z.string(),
  command: z.array(z.string()),
  passed: z.boolean(),
  exitCode: z.number().int().optional(),
  output: z.string().optional(),
});
export type HealthCheckOutcome = z.infer<typeof healthCheckOutcomeSchema>;

/** At most this many check outcomes travel in the state and the result. */
export const reportedChecks = 20;

/**
 * `$.drillCheck`: one look at the scratch copy. Not done: the state machine waits `waitSeconds`
 * and looks again, until `readyBy`. Done: passed, or not, with why.
 */
export const drillCheckSchema = z.object({
  done: z.boolean(),
  waitSeconds: z.number().int().positive(),
  /** Computed at the first look: the workloads had readyTimeoutSeconds from then. */
  readyBy: z.iso.datetime(),
  passed: z.boolean().optional(),
  /** From the start of the restore until the workloads were ready and every check passed. */
  timeToReadySeconds: z.number().int().nonnegative().optional(),
  /** What is not ready yet (workloads), or failed last (checks): a few lines. */
  waitingFor: z.array(z.string()).max(10),
  checks: z.array(healthCheckOutcomeSchema).max(reportedChecks),
  problem: z.string().optional(),
});
export type DrillCheck = z.infer<typeof drillCheckSchema>;
