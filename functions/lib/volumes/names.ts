import { createHash } from "node:crypto";

/**
 * Names, labels and annotations of the objects the volume steps create. Temporary objects carry
 * the run label, which is all cleanup needs to find them later, even from another process.
 * Names are derived from the run and the volume, so a rerun of a step finds what an earlier
 * attempt created instead of making a second one.
 */

export const RUN_LABEL = "kubeferry.dev/run";
/** Marks objects cleanup may delete; the final PV and PVC never carry it. */
export const TEMPORARY_LABEL = "kubeferry.dev/temporary";

export const ALLOW_MODE_CHANGE = "snapshot.storage.kubernetes.io/allow-volume-mode-change";

/** On a restored PVC: the manifest last restored into its volume, completely and verified. */
export const RESTORED_ANNOTATION = "kubeferry.dev/restored-manifest";
/**
 * On a restored PVC: the pair whose runs restore it. Manifest refs name runs of one pair's
 * repository only, so a second pair replicating into the same PVC is refused, not mixed in.
 */
export const RESTORED_BY_PAIR_ANNOTATION = "kubeferry.dev/restored-by-pair";
/**
 * On a restored PVC during a standby rerun: manifests a restore has started writing into its
 * volume and not finished. The next rerun rewrites the chunks they may have half-written.
 */
export const RESTORING_ANNOTATION = "kubeferry.dev/restoring-manifests";
/**
 * On a restored PVC whose copy was activated: when it went live. The application may have
 * written anything since, so the next restore into it (after failback) compares every chunk
 * with the destination instead of trusting the restored manifest; that restore removes it.
 */
export const ACTIVATED_ANNOTATION = "kubeferry.dev/activated-at";
/** On the destination helper PVC: the whole-volume digest that verification saw. */
export const VERIFIED_ANNOTATION = "kubeferry.dev/verified-sha256";
/** On a PV while it is rebound with Retain: the reclaim policy to put back afterwards. */
export const RECLAIM_ANNOTATION = "kubeferry.dev/original-reclaim-policy";

export function runLabels(runId: string): Record<string, string> {
  return { [RUN_LABEL]: labelValue(runId), [TEMPORARY_LABEL]: "true" };
}

export function runSelector(runId: string): string {
  return `${RUN_LABEL}=${labelValue(runId)},${TEMPORARY_LABEL}=true`;
}

/** The run's final PVs: the run label without the temporary one (see finalizeVolume). */
export function finalPvSelector(runId: string): string {
  return `${RUN_LABEL}=${labelValue(runId)},!${TEMPORARY_LABEL}`;
}

/** Label values are at most 63 characters of [A-Za-z0-9._-]; long or odd run ids are hashed. */
function labelValue(runId: string): string {
  return /^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/.test(runId) ? runId : `h-${shortHash(runId, 40)}`;
}

/**
 * `kf-<purpose>-<volume name, shortened>-<hash of run and volume>`: readable in `kubectl get`,
 * unique per run and volume, and a valid DNS label (≤ 63 characters).
 */
export function temporaryName(
  purpose: "snap" | "group" | "src" | "dst" | "live",
  runId: string,
  namespace: string,
  pvc: string,
): string {
  const readable = pvc
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, "-")
    .slice(0, 30)
    .replace(/-+$/, "");
  return `kf-${purpose}-${readable}-${shortHash(`${runId}\n${namespace}\n${pvc}`, 12)}`;
}

/** Name of the PV that binds the restored volume to its final PVC. */
export function finalPvName(runId: string, namespace: string, pvc: string): string {
  return `kf-pv-${shortHash(`${runId}\n${namespace}\n${pvc}`, 20)}`;
}

function shortHash(text: string, length: number): string {
  return createHash("sha256").update(text).digest("hex").slice(0, length);
}
