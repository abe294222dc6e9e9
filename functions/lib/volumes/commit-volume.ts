import { mapBounded } from "../bounded-map.ts";
import type { VolumeManifest } from "../repository/manifests.ts";
import { chunkCountOf } from "./chunk-ranges.ts";
import type { VolumeManifests } from "./chunk-repository.ts";
import type { Clock } from "./kube-calls.ts";
import type { RangePart, RangePartStore } from "./range-parts.ts";
import { VolumeDigest } from "./volume-digest.ts";

export interface CommitVolumeInput {
  runId: string;
  namespace: string;
  pvc: string;
  volumeBytes: number;
  chunkBytes: number;
  /** How many ranges the plan had; every one must have its part. */
  rangeCount: number;
}

export interface CommitVolumeOutput {
  chunks: number;
  holes: number;
  newChunks: number;
  newBytes: number;
  sha256: string;
}

/**
 * Assembles a volume's manifest from its staged ranges once all are in, with the whole-volume
 * digest combined from the chunk digests their hash passes recorded (VolumeDigest; restore
 * verification compares against it). No device is read. Idempotent: a rerun finds the manifest
 * written and returns it.
 */
export async function commitVolume(
  deps: { parts: RangePartStore; manifests: VolumeManifests; clock: Clock },
  input: CommitVolumeInput,
): Promise<CommitVolumeOutput> {
  const key = { runId: input.runId, namespace: input.namespace, pvc: input.pvc };
  const written = await readIfPresent(deps.manifests, input);
  if (written !== undefined) return summarize(written, { newChunks: 0, newBytes: 0 });

  const where = `volume ${input.namespace}/${input.pvc} of run ${input.runId}`;
  const indexes = Array.from({ length: input.rangeCount }, (_, i) => i);
  const found = await mapBounded(indexes, 16, (i) => deps.parts.read(key, i));
  const missing = indexes.filter((i) => found[i] === undefined);
  if (missing.length > 0) {
    throw new Error(
      `${where}: range${missing.length > 1 ? "s" : ""} ${missing.join(", ")} not staged; rerun those StageRange items, then commit`,
    );
  }
  const parts = found as RangePart[];
  const chunks: (string | null)[] = [];
  for (const part of parts) {
    if (part.firstChunk !== chunks.length) {
      throw new Error(
        `${where}: range ${part.rangeIndex} starts at chunk ${part.firstChunk}, expected ${chunks.length}; plan and stage again`,
      );
    }
    chunks.push(...part.chunks);
  }
  const expected = chunkCountOf(input.volumeBytes, input.chunkBytes);
  if (chunks.length !== expected) {
    throw new Error(
      `${where}: the ranges hold ${chunks.length} chunks, the volume has ${expected}; plan and stage again`,
    );
  }

  const digest = new VolumeDigest(input.volumeBytes, input.chunkBytes);
  for (const part of parts) digest.add(part.firstChunk, part.digests);
  const sha256 = digest.hex();
  const manifest: VolumeManifest = {
    version: 1,
    runId: input.runId,
    namespace: input.namespace,
    name: input.pvc,
    createdAt: new Date(deps.clock.now()).toISOString(),
    image: { chunkSize: input.chunkBytes, size: input.volumeBytes, sha256, chunks },
  };
  await deps.manifests.writeVolumeManifest(manifest);
  await deps.parts.deleteAll(key);
  return summarize(manifest, {
    newChunks: parts.reduce((n, p) => n + p.stats.newChunks, 0),
    newBytes: parts.reduce((n, p) => n + p.stats.storedBytes, 0),
  });
}

async function readIfPresent(
  manifests: VolumeManifests,
  input: CommitVolumeInput,
): Promise<VolumeManifest | undefined> {
  try {
    return await manifests.readVolumeManifest(input.runId, input.namespace, input.pvc);
  } catch (error) {
    if ((error as Error).name === "ManifestMissing") return undefined;
    throw error;
  }
}

function summarize(
  manifest: VolumeManifest,
  stats: { newChunks: number; newBytes: number },
): CommitVolumeOutput {
  return {
    chunks: manifest.image.chunks.length,
    holes: manifest.image.chunks.filter((id) => id === null).length,
    ...stats,
    sha256: manifest.image.sha256,
  };
}
