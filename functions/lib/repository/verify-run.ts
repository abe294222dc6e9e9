import { createHash } from "node:crypto";
import { mapBounded } from "../bounded-map.ts";
import type { Repository } from "./repository.ts";
import { treeChunkIds } from "./tree-manifest.ts";

export interface VerifyRunOptions {
  /** Fraction of each volume's distinct chunks to read, in (0, 1]; 1 reads every chunk. */
  sample: number;
  /** Chooses the sample: the same seed picks the same chunks, so a finding can be reproduced. */
  seed: string;
}

export interface VolumeCheck {
  volume: string;
  chunks: number;
  checked: number;
  bad: number;
}

export interface RunCheck {
  volumes: VolumeCheck[];
  problems: string[];
}

/**
 * Re-reads what a run staged, like `restic check --read-data`: the resource bundle and every
 * manifest decrypt and validate, and every sampled chunk authenticates and hashes to its id.
 */
export async function verifyRun(
  repository: Repository,
  runId: string,
  options: VerifyRunOptions,
): Promise<RunCheck> {
  await repository.manifests.readRunRecord(runId);
  const problems: string[] = [];
  await repository.manifests.readResourceBundle(runId).catch((error: Error) => problems.push(error.message));
  const volumes: VolumeCheck[] = [];
  const checkVolume = async (volume: string, ids: string[]) => {
    const picked = sampleChunks(ids, options.sample, `${options.seed}/${volume}`);
    let bad = 0;
    await mapBounded(picked, 8, async (id) => {
      try {
        await repository.content.getChunk(id);
      } catch (error) {
        bad++;
        problems.push(`${volume}: ${(error as Error).message}`);
      }
    });
    volumes.push({ volume, chunks: ids.length, checked: picked.length, bad });
  };
  for await (const manifest of repository.manifests.volumeManifests(runId)) {
    const ids = [...new Set(manifest.image.chunks.filter((id): id is string => id !== null))];
    await checkVolume(`${manifest.namespace}/${manifest.name}`, ids);
  }
  for await (const manifest of repository.manifests.treeManifests(runId)) {
    await checkVolume(`${manifest.namespace}/${manifest.name}`, [...treeChunkIds(manifest.tree.entries)]);
  }
  return { volumes, problems };
}

/**
 * ceil(fraction × n) of the ids (at least one when there are any), chosen by ordering them by a
 * keyed hash: uniform over the ids, and the same for the same seed.
 */
export function sampleChunks(ids: readonly string[], fraction: number, seed: string): string[] {
  if (fraction >= 1) return [...ids];
  const count = Math.min(ids.length, Math.max(1, Math.ceil(fraction * ids.length)));
  const rank = (id: string) => createHash("sha256").update(seed).update("\0").update(id).digest("hex");
  return ids
    .map((id) => ({ id, rank: rank(id) }))
    .sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0))
    .slice(0, count)
    .map(({ id }) => id);
}
