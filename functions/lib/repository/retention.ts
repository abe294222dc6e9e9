import { type RunRecord, recordNamespaces } from "./manifests.ts";
import type { Repository } from "./repository.ts";

/** Runs kept per pair and namespace when neither the pair nor the deployment says otherwise (as Stork's retain). */
export const defaultKeepRuns = 10;

export interface RetentionReport {
  keepRuns: number;
  /** Runs whose records (and manifests) were dropped; their chunks go at the next sweep. */
  droppedRuns: string[];
  keptRuns: number;
}

/**
 * Which finished runs fall out of retention: per namespace, the newest `keepRuns` finished runs
 * stay, and so does the newest successful one even when failures followed it (it is what a
 * restore would start from). A run covering several namespaces stays while any of them keeps it.
 * Running runs are never dropped nor counted.
 */
export function expiredRuns(records: readonly RunRecord[], keepRuns: number): string[] {
  if (!Number.isInteger(keepRuns) || keepRuns < 1) {
    throw new RangeError(`keepRuns must be a whole number of at least 1, not ${keepRuns}`);
  }
  // Drills are kept by the same rule among themselves: scheduled drills never push a run out.
  return [
    ...expiredAmong(
      records.filter((record) => record.drillOf === undefined),
      keepRuns,
    ),
    ...expiredAmong(
      records.filter((record) => record.drillOf !== undefined),
      keepRuns,
    ),
  ];
}

function expiredAmong(records: readonly RunRecord[], keepRuns: number): string[] {
  const finished = records
    .filter((record) => record.status !== "Running")
    .sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  const kept = new Set<string>();
  const byNamespace = new Map<string, RunRecord[]>();
  for (const record of finished) {
    for (const namespace of namespacesOf(record)) {
      byNamespace.set(namespace, [...(byNamespace.get(namespace) ?? []), record]);
    }
  }
  for (const runs of byNamespace.values()) {
    for (const record of runs.slice(0, keepRuns)) kept.add(record.runId);
    const lastSuccess = runs.find((record) => record.status === "Succeeded");
    if (lastSuccess) kept.add(lastSuccess.runId);
  }
  return finished.filter((record) => !kept.has(record.runId)).map((record) => record.runId);
}

function namespacesOf(record: RunRecord): string[] {
  const namespaces = recordNamespaces(record);
  // A record with neither (an old objects-only run) counts under one bucket of its own.
  return namespaces.length > 0 ? namespaces : [""];
}

/**
 * Drops the run records that fell out of retention. A run that never wrote its record (it failed
 * before CommitRun) has no date to judge it by and is left to the person (`kubeferry status`).
 */
export async function applyRetention(
  repository: Repository,
  options: { keepRuns: number; dryRun?: boolean },
): Promise<RetentionReport> {
  const records = await repository.manifests.runRecords();
  const droppedRuns = expiredRuns(records, options.keepRuns);
  if (!options.dryRun) for (const runId of droppedRuns) await repository.manifests.deleteRun(runId);
  return { keepRuns: options.keepRuns, droppedRuns, keptRuns: records.length - droppedRuns.length };
}
