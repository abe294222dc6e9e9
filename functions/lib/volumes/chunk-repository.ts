import type { StoredChunk } from "../repository/content-store.ts";
import type { VolumeManifest } from "../repository/manifests.ts";

/**
 * The parts of the chunk repository the volume steps use, as narrow interfaces: the repository's
 * ContentStore and ManifestStore satisfy them as they are, and tests can wrap them to count.
 */
export interface ChunkRepository {
  /** The repository's name, for messages. */
  readonly repository: string;
  /** The id of a chunk from its plaintext SHA-256, computed in the pod. */
  chunkIdForDigest(digest: Uint8Array): string;
  /** Whether the repository has the chunk, undeleting it if garbage collection marked it. */
  reuseChunk(id: string): Promise<boolean>;
  /** Put-if-absent. */
  putChunk(plaintext: Uint8Array): Promise<StoredChunk>;
  /** Authenticated and checked against its id; throws the repository's ChunkCorrupt/ChunkMissing. */
  getChunk(id: string): Promise<Buffer>;
}

export interface VolumeManifests {
  writeVolumeManifest(manifest: VolumeManifest): Promise<void>;
  readVolumeManifest(runId: string, namespace: string, pvc: string): Promise<VolumeManifest>;
}

/** Identifies one volume manifest: the run that staged it and the source PVC. */
export interface ManifestRef {
  runId: string;
  namespace: string;
  pvc: string;
}

export function readManifest(manifests: VolumeManifests, ref: ManifestRef): Promise<VolumeManifest> {
  return manifests.readVolumeManifest(ref.runId, ref.namespace, ref.pvc);
}
