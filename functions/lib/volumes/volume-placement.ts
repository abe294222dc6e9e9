import type { ClusterClient } from "../kube/client/cluster-client.ts";
import { getObject, listObjects } from "./kube-calls.ts";

/** A PV's `spec.nodeAffinity.required`: where its volume can be reached. */
export interface VolumeNodeSelector {
  nodeSelectorTerms: NodeSelectorTerm[];
}

export interface NodeSelectorTerm {
  matchExpressions?: NodeSelectorRequirement[];
  matchFields?: NodeSelectorRequirement[];
}

export interface NodeSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

export const ZONE_LABEL = "topology.kubernetes.io/zone";

/**
 * The one zone a volume is reachable in, when its node affinity names exactly one in every term;
 * a regional or unconstrained volume has none (it needs no pinning).
 */
export function volumeZone(selector: VolumeNodeSelector | undefined): string | undefined {
  const zones = new Set(
    (selector?.nodeSelectorTerms ?? []).map((term) => {
      const zone = term.matchExpressions?.find((r) => r.key === ZONE_LABEL && r.operator === "In");
      return zone?.values?.length === 1 ? zone.values[0] : undefined;
    }),
  );
  const [only, ...others] = zones;
  return others.length === 0 ? only : undefined;
}

/**
 * Where the destination helper pod goes. On a WaitForFirstConsumer class the new volume is
 * provisioned where that pod lands, and the application later has to run there: so it is pinned
 * to the source volume's zone (through the pair's zone mapping) when the destination has nodes in
 * a zone of that name. Otherwise — an Immediate class (the PV's own affinity places the pod), a
 * source without one zone, a destination without that zone — it is left to the scheduler.
 */
export async function destinationNodeAffinity(
  client: ClusterClient,
  input: { storageClass: string; sourceZone: string | undefined; zoneMapping?: Record<string, string> },
): Promise<VolumeNodeSelector | undefined> {
  if (input.sourceZone === undefined) return undefined;
  const storageClass = await getObject<{ volumeBindingMode?: string }>(
    client,
    `/apis/storage.k8s.io/v1/storageclasses/${input.storageClass}`,
  );
  if (storageClass?.volumeBindingMode !== "WaitForFirstConsumer") return undefined;
  const zone = input.zoneMapping?.[input.sourceZone] ?? input.sourceZone;
  const nodes = await listObjects(client, "/api/v1/nodes", `${ZONE_LABEL}=${zone}`);
  if (nodes.length === 0) return undefined;
  return { nodeSelectorTerms: [{ matchExpressions: [{ key: ZONE_LABEL, operator: "In", values: [zone] }] }] };
}
