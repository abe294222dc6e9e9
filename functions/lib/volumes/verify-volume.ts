import { VerifyFailed } from "../errors.ts";
import type { ClusterClient } from "../kube/client/cluster-client.ts";
import { readManifest, type VolumeManifests } from "./chunk-repository.ts";
import { mergePatch, paths } from "./kube-calls.ts";
import { VERIFIED_ANNOTATION } from "./names.ts";
import { describeTarget, type PodExec } from "./pod-exec.ts";
import { describeManifest, type RestoreTarget } from "./restore-target.ts";
import { volumeDigest } from "./volume-digest.ts";

/**
 * Computes the whole-volume SHA-256 in the destination helper pod and compares it with the
 * manifest's (computed the same way in the source pod). A match is recorded on the temporary
 * PVC, and finalizeVolume rebinds only a volume so marked: a volume that failed verification
 * never becomes the application's PVC.
 */
export async function verifyRestoredVolume(
  deps: { client: ClusterClient; exec: PodExec; manifests: VolumeManifests },
  restore: RestoreTarget,
): Promise<{ sha256: string }> {
  const { image } = await readManifest(deps.manifests, restore.manifest);
  const sha256 = await volumeDigest(deps.exec, restore.target, image.size);
  if (sha256 !== image.sha256) {
    const next =
      restore.mode === "fresh"
        ? "the final PVC was not bound; run cleanup and restore again"
        : "the standby volume now holds a partial update; rerun with fullRestore to rewrite it";
    throw new VerifyFailed(
      `${describeTarget(restore.target)}: the restored volume's SHA-256 is ${sha256}, the ${describeManifest(restore.manifest)} ` +
        `says ${image.sha256}; ${next}`,
    );
  }
  await mergePatch(deps.client, paths.pvc(restore.claimNamespace, restore.claimName), {
    metadata: { annotations: { [VERIFIED_ANNOTATION]: sha256 } },
  });
  return { sha256 };
}
