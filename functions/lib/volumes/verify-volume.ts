import { VerifyFailed } from "../errors.ts";
import type { ClusterClient } from "../kube/client/cluster-client.ts";
import { isNotFound } from "../kube/client/kube-api-error.ts";
import { chunkCountOf } from "./chunk-ranges.ts";
import { readManifest, type VolumeManifests } from "./chunk-repository.ts";
import { mergePatch, paths } from "./kube-calls.ts";
import { VERIFIED_ANNOTATION } from "./names.ts";
import { describeTarget } from "./pod-exec.ts";
import type { RestoredPartStore } from "./range-parts.ts";
import { describeManifest, type RestoreTarget, restoredPartsKey } from "./restore-target.ts";
import { VolumeDigest } from "./volume-digest.ts";

/**
 * Combines the digests the restore ranges read back from the destination device into the
 * whole-volume digest (VolumeDigest) and compares it with the manifest's, which the source side
 * built the same way from its hash passes; no device is read here. A match is recorded on the
 * temporary PVC, and finalizeVolume rebinds only a volume so marked: a volume that failed
 * verification never becomes the application's PVC.
 */
export async function verifyRestoredVolume(
  deps: { client: ClusterClient; manifests: VolumeManifests; restored: RestoredPartStore },
  restore: RestoreTarget,
): Promise<{ sha256: string }> {
  const { image } = await readManifest(deps.manifests, restore.manifest);
  const where = `${describeTarget(restore.target)}: the restored volume`;
  const digest = new VolumeDigest(image.size, image.chunkSize);
  for (const part of await deps.restored.readAll(restoredPartsKey(restore))) {
    if (part.firstChunk !== digest.nextChunk) break;
    digest.add(part.firstChunk, part.digests);
  }
  const total = chunkCountOf(image.size, image.chunkSize);
  if (digest.nextChunk !== total) {
    throw new VerifyFailed(
      `${where} has no restored range starting at chunk ${digest.nextChunk} of ${total}; ` +
        "run RestoreRanges for every range of the volume, then verify again",
    );
  }
  const sha256 = digest.hex();
  if (sha256 !== image.sha256) {
    const next =
      restore.mode === "fresh"
        ? "the final PVC was not bound; run cleanup and restore again"
        : "the standby volume now holds a partial update; rerun with `kubeferry migrate --full-restore` (request field fullRestore: true) to rewrite it";
    throw new VerifyFailed(
      `${where}'s digest is ${sha256}, the ${describeManifest(restore.manifest)} says ${image.sha256}; ${next}`,
    );
  }
  await markVerified(deps.client, restore, sha256);
  return { sha256 };
}

/** Records on the temporary PVC the digest verification saw: finalizeVolume binds only a volume so marked. */
export async function markVerified(
  client: ClusterClient,
  restore: RestoreTarget,
  sha256: string,
): Promise<void> {
  try {
    await mergePatch(client, paths.pvc(restore.claimNamespace, restore.claimName), {
      metadata: { annotations: { [VERIFIED_ANNOTATION]: sha256 } },
    });
  } catch (error) {
    // A FinalizeVolumes retry: finalizeVolume removes the temporary PVC only after reading this
    // mark on it, so a PVC already gone was verified, and finalizeVolume finishes from its final PV.
    if (!isNotFound(error)) throw error;
  }
}
