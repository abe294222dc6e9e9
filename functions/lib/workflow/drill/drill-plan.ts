import type { KubeObject } from "../../kube/objects.ts";
import type { RangeItem, StagePlan } from "../volume-state.ts";

/**
 * The part of a committed run's stage plan a drill restores: the volumes of the requested
 * namespaces, and their range items renumbered to the narrowed plan. A run that covered more
 * namespaces than the drill names would otherwise restore the others into their mapped namespaces.
 */
export function narrowStagePlan(
  staged: { plan: StagePlan; items: readonly RangeItem[] },
  namespaces: ReadonlySet<string>,
): { plan: StagePlan; items: RangeItem[] } {
  const renumbered = new Map<number, number>();
  const volumes: StagePlan["volumes"] = [];
  staged.plan.volumes.forEach((volume, index) => {
    if (!namespaces.has(volume.source.namespace)) return;
    renumbered.set(index, volumes.length);
    volumes.push(volume);
  });
  const items = staged.items.flatMap((item) => {
    const volume = renumbered.get(item.volume);
    return volume === undefined ? [] : [{ ...item, volume }];
  });
  return { plan: { ...staged.plan, volumes }, items };
}

/**
 * The objects a drill applies: the namespaced objects of the requested namespaces. Cluster-scoped
 * ones (CRDs, cluster roles, the Namespace objects themselves) belong to the standby copy and to
 * other namespaces; the scratch namespace is the drill's own (PlanDrill creates it).
 */
export function drillObjects(objects: readonly KubeObject[], namespaces: ReadonlySet<string>): KubeObject[] {
  return objects.filter((object) => {
    const namespace = object.metadata.namespace;
    return namespace !== undefined && namespaces.has(namespace);
  });
}
