import type { PairRecord } from "../kube/pairing/pairs.ts";
import { collectGarbage, type GarbageReport } from "../repository/garbage-collection.ts";
import type { Repository } from "../repository/repository.ts";
import { applyRetention, type RetentionReport } from "../repository/retention.ts";
import { heldRunLocks } from "./run-locks.ts";
import type { StepDeps } from "./step-deps.ts";

export type PairGarbageReport =
  | { pair: string; skipped: string }
  | ({ pair: string; retention: RetentionReport } & GarbageReport);

export interface PairGarbageOptions {
  /** Runs kept per namespace when the pair names no number of its own. */
  keepRuns: number;
  owner: string;
  dryRun?: boolean;
  now?: () => Date;
}

/**
 * One pair's collection, the same from the CLI and from the stack's schedule: drop the run
 * records past retention, then run a collection pass (which marks the chunks no remaining run
 * references and deletes those marked longer than the safety margin ago). A dry run reports
 * the runs it would drop, while its sweep still counts their chunks as referenced.
 */
export async function collectPairGarbage(
  pair: PairRecord,
  repository: Repository,
  options: PairGarbageOptions,
): Promise<PairGarbageReport> {
  const now = options.now ?? (() => new Date());
  // A run still staging has chunks no manifest names yet: let it finish first. This only saves
  // work (marks the run's commit would remove again); deletion is safe without it, since a
  // candidate is deleted only after the safety margin and a writer reusing it undeletes it.
  const busy = await heldRunLocks(repository, now);
  if (busy.length > 0) return { pair: pair.name, skipped: `runs in progress hold ${busy.join(", ")}` };
  const dryRun = options.dryRun ?? false;
  const retention = await applyRetention(repository, { keepRuns: pair.keepRuns ?? options.keepRuns, dryRun });
  const report = await collectGarbage(repository, { owner: options.owner, dryRun, now });
  return { pair: pair.name, retention, ...report };
}

/** Every pair's collection (or only the pair named), one after another. */
export async function collectEveryPairGarbage(
  deps: Pick<StepDeps, "pairs" | "openRepository">,
  options: PairGarbageOptions & { only?: string },
): Promise<PairGarbageReport[]> {
  const reports = [];
  for (const pair of await deps.pairs.list()) {
    if (options.only !== undefined && pair.name !== options.only) continue;
    reports.push(await collectPairGarbage(pair, await deps.openRepository(pair.name), options));
  }
  return reports;
}
