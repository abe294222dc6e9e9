import { createHash } from "node:crypto";
import type { PairRecord } from "../../kube/pairing/pairs.ts";
import { destinationNamespace, loadPair } from "../pair-access.ts";
import type { MigrationRequest } from "../request.ts";
import type { StepDeps } from "../step-deps.ts";

const infix = "-drill-";
const suffixLength = 8;

/**
 * `<mapped namespace>-drill-<8 hex of the run id>`: readable, a DNS label (≤ 63), and the same
 * for every step of the run, so no state carries it and a retried step finds what it made.
 */
export function scratchNamespace(mappedNamespace: string, runId: string): string {
  const suffix = createHash("sha256").update(runId).digest("hex").slice(0, suffixLength);
  const base = mappedNamespace.slice(0, 63 - infix.length - suffixLength).replace(/-+$/, "");
  return `${base}${infix}${suffix}`;
}

/**
 * The pair as a drill's restore states see it: each requested namespace goes to its scratch
 * namespace instead of the pair's destination namespace, for this run only. The standby copy
 * in the mapped namespace is never named, so never opened.
 */
export function drillPair(pair: PairRecord, run: { id: string; request: MigrationRequest }): PairRecord {
  if (!run.request.drill) return pair;
  const scratch = run.request.namespaces.map((namespace) => [
    namespace,
    scratchNamespace(destinationNamespace(pair, namespace), run.id),
  ]);
  return { ...pair, namespaceMapping: { ...pair.namespaceMapping, ...Object.fromEntries(scratch) } };
}

/** The pair a restore state works with: the pair itself, or for a drill its scratch mapping. */
export async function loadRestorePair(
  deps: StepDeps,
  run: { id: string; request: MigrationRequest },
): Promise<PairRecord> {
  return drillPair(await loadPair(deps, run.request.pair), run);
}

/** The drill's scratch namespaces on the destination, one per requested namespace. */
export function scratchNamespaces(
  pair: PairRecord,
  run: { id: string; request: MigrationRequest },
): string[] {
  const drill = drillPair(pair, run);
  return run.request.namespaces.map((namespace) => destinationNamespace(drill, namespace));
}
