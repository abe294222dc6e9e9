import { NoCommittedRun } from "../../errors.ts";
import {
  isFinished,
  type ManifestStore,
  type RunRecord,
  recordNamespaces,
} from "../../repository/manifests.ts";

/**
 * A run of the pair a drill can restore: finished Succeeded or PartialSuccess, its record written
 * by CommitRun (`resources` set; a dry run's record, written by ApplyResources, has none), and not
 * a drill. The pair matters: a reversed pair's runs share the repository and go the other way.
 */
function isCommitted(record: RunRecord, pair: string): boolean {
  return (
    isFinished(record) &&
    record.pair === pair &&
    record.resources !== undefined &&
    record.drillOf === undefined
  );
}

function namespacesOf(record: RunRecord): Set<string> {
  return new Set(recordNamespaces(record));
}

/**
 * The newest committed run of the pair's repository that covers every namespace asked for; none
 * is a NoCommittedRun naming the first namespace without one.
 */
export async function latestCommittedRun(
  manifests: ManifestStore,
  pair: string,
  namespaces: readonly string[],
): Promise<RunRecord> {
  const committed = (await manifests.runRecords()).filter((record) => isCommitted(record, pair));
  committed.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  const covering = committed.find((record) => {
    const covered = namespacesOf(record);
    return namespaces.every((namespace) => covered.has(namespace));
  });
  if (covering) return covering;
  const uncovered = namespaces.find(
    (namespace) => !committed.some((record) => namespacesOf(record).has(namespace)),
  );
  throw new NoCommittedRun(
    uncovered === undefined
      ? `namespaces ${namespaces.join(", ")}: no single committed run of pair ${pair} covers them all; ` +
          "drill them one by one, or run a migration of all of them first"
      : `namespace ${uncovered}: pair ${pair} has no committed run (Succeeded or PartialSuccess) to drill; ` +
          `run a migration first (kubeferry migrate --pair ${pair} -n ${uncovered} --standby)`,
  );
}
