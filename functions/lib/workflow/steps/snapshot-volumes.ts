import { z } from "zod";
import { systemClock } from "../../volumes/kube-calls.ts";
import { KubeExec } from "../../volumes/pod-exec.ts";
import { snapshotClassFor } from "../../volumes/snapshot-class.ts";
import { type SourceVolume, snapshotNamespace } from "../../volumes/snapshots.ts";
import { loadPair, withClients } from "../pair-access.ts";
import { migrationRunSchema } from "../run.ts";
import { defineStep } from "../step.ts";

const resourcesSchema = z.object({ volumes: z.array(z.object({ namespace: z.string(), pvc: z.string() })) });

/**
 * Cuts a CSI snapshot of every selected PVC (the hooks run in their own states around this
 * one) and waits until each is ready; a rerun finds the snapshots it already made.
 */
export const snapshotVolumes = defineStep({
  task: "SnapshotVolumes",
  input: z.object({ run: migrationRunSchema, resources: resourcesSchema }),
  async run({ run, resources }, deps): Promise<{ volumes: SourceVolume[] }> {
    if (resources.volumes.length === 0) return { volumes: [] };
    const pair = await loadPair(deps, run.request.pair);
    const source = await deps.connectCluster(pair.source);
    const exec = new KubeExec(source.kubeConfig);
    return withClients([source], async () => {
      // One snapshotNamespace call per namespace and snapshot class (PVCs of different drivers).
      const groups = new Map<string, { namespace: string; snapshotClass: string; pvcs: string[] }>();
      for (const { namespace, pvc } of resources.volumes) {
        const snapshotClass = await snapshotClassFor(source, namespace, pvc);
        const key = `${namespace}/${snapshotClass}`;
        const group = groups.get(key) ?? { namespace, snapshotClass, pvcs: [] };
        group.pvcs.push(pvc);
        groups.set(key, group);
      }
      const volumes: SourceVolume[] = [];
      for (const group of groups.values()) {
        const snapshotted = await snapshotNamespace(
          { client: source, exec, clock: systemClock },
          { runId: run.id, ...group },
        );
        volumes.push(...snapshotted.volumes);
      }
      return { volumes };
    });
  },
});
