import type { ManifestRef } from "./chunk-repository.ts";
import type { ExecTarget } from "./pod-exec.ts";
import type { VolumeKey } from "./range-parts.ts";

/** Where and how a volume is restored; produced by prepareRestore, passed to the later steps. */
export interface RestoreTarget {
  runId: string;
  /** The pair the run belongs to, recorded on the final PVC (RESTORED_BY_PAIR_ANNOTATION). */
  pair: string;
  /**
   * "fresh": a new volume through a temporary Block PVC, rebound as the final PVC afterwards.
   * "standby": the volume of an existing final PVC (a DR rerun), written through a temporary
   * Block PV and PVC on the same volume handle.
   */
  mode: "fresh" | "standby";
  /** The destination helper pod. */
  target: ExecTarget;
  /** The temporary Block PVC (and, in standby mode, PV) the helper pod writes through. */
  claimName: string;
  /** The data-mover namespace, where the temporary PVC and the helper pod live. */
  claimNamespace: string;
  /** The PVC the application uses: the source PVC's name in the destination namespace. */
  finalPvc: { namespace: string; name: string };
  /** The manifest being restored. */
  manifest: ManifestRef;
  /** What the device holds before the restore; decides which chunks are written. */
  device:
    | { kind: "fresh" }
    | { kind: "unknown" }
    | { kind: "restored"; restored: ManifestRef; interrupted: ManifestRef[] };
}

export function describeManifest(ref: ManifestRef): string {
  return `manifest of ${ref.namespace}/${ref.pvc} from run ${ref.runId}`;
}

export function sameManifest(a: ManifestRef, b: ManifestRef): boolean {
  return a.runId === b.runId && a.namespace === b.namespace && a.pvc === b.pvc;
}

/** Where a restore's per-range parts live: under the restoring run, by the final PVC. */
export function restoredPartsKey(restore: RestoreTarget): VolumeKey {
  return { runId: restore.runId, namespace: restore.finalPvc.namespace, pvc: restore.finalPvc.name };
}
