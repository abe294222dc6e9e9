import { runPartChunkIds } from "../volumes/range-parts.ts";
import type { Repository } from "./repository.ts";
import { treeChunkIds } from "./tree-manifest.ts";

export interface ChunkReferences {
  runs: number;
  chunks: Set<string>;
}

/**
 * Every chunk something in the repository still names: the volume and tree manifests of every run, and
 * the range parts under every run's prefix (a failed or unfinished run's parts are what its
 * resume commits from, so their chunks and the chunks they list must stay).
 */
export async function chunkReferences(repository: Repository): Promise<ChunkReferences> {
  const runIds = await repository.manifests.listRunIds();
  const chunks = new Set<string>();
  for (const runId of runIds) {
    for await (const volume of repository.manifests.volumeManifests(runId)) {
      for (const id of volume.image.chunks) if (id !== null) chunks.add(id);
    }
    for await (const tree of repository.manifests.treeManifests(runId)) {
      for (const id of treeChunkIds(tree.tree.entries)) chunks.add(id);
    }
    for await (const id of runPartChunkIds(repository.store, repository.content, runId)) chunks.add(id);
  }
  return { runs: runIds.length, chunks };
}
