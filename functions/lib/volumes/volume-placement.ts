import type { ClusterClient } from "../kube/client/cluster-client.ts";
import { getObject, listObjects, paths } from "./kube-calls.ts";
import type { WorkloadPlacement } from "./workload-placement.ts";

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
 * provisioned where that pod lands, and the application later has to run there. So the pod is
 * pinned to a zone the destination has nodes in and the workload's pod template allows:
 * - a StatefulSet replica whose template spreads over zones gets zone `ordinal mod n` of the
 *   allowed zones (sorted), so the replicas' volumes spread as their pods must;
 * - otherwise the source volume's zone (through the pair's zone mapping) when allowed, else the
 *   first zone the template allows.
 * Otherwise (an Immediate class, whose PV's own affinity places the pod; no zone known or
 * allowed) it is left to the scheduler.
 */
export async function destinationNodeAffinity(
  client: ClusterClient,
  input: {
    storageClass: string;
    sourceZone: string | undefined;
    zoneMapping?: Record<string, string>;
    workload?: WorkloadPlacement;
  },
): Promise<VolumeNodeSelector | undefined> {
  const storageClass = await getObject<{ volumeBindingMode?: string }>(
    client,
    paths.storageClass(input.storageClass),
  );
  if (storageClass?.volumeBindingMode !== "WaitForFirstConsumer") return undefined;
  const nodes = await listObjects<{ metadata?: { labels?: Record<string, string> } }>(
    client,
    "/api/v1/nodes",
  );
  const destinationZones = [...new Set(nodes.map((node) => node.metadata?.labels?.[ZONE_LABEL]))]
    .filter((zone): zone is string => zone !== undefined)
    .sort();
  const required = input.workload?.zones;
  const allowed = required ? destinationZones.filter((zone) => required.includes(zone)) : destinationZones;
  if (allowed.length === 0) return undefined;
  const ordinal = input.workload?.spreadOrdinal;
  const mapped = input.sourceZone && (input.zoneMapping?.[input.sourceZone] ?? input.sourceZone);
  const zone =
    ordinal !== undefined
      ? allowed[ordinal % allowed.length]
      : mapped && allowed.includes(mapped)
        ? mapped
        : required
          ? allowed[0]
          : undefined;
  if (zone === undefined) return undefined;
  return { nodeSelectorTerms: [{ matchExpressions: [{ key: ZONE_LABEL, operator: "In", values: [zone] }] }] };
}
