import type { TreeEntry } from "../../repository/tree-manifest.ts";

export interface ChunkReader {
  getChunk(id: string): Promise<Buffer>;
}

/**
 * Reads files' contents back from their chunks. Packs are shared by neighbouring small files and
 * a restore goes in path order, so the last few chunks are kept: each pack is fetched once. A
 * large file's next chunks are fetched while the current one is written (`readAhead`).
 */
export class TreeContents {
  private readonly cache = new Map<string, Promise<Buffer>>();

  constructor(
    private readonly chunks: ChunkReader,
    private readonly options: { cachedChunks: number; readAhead: number } = { cachedChunks: 4, readAhead: 4 },
  ) {}

  async *read(entry: TreeEntry): AsyncIterable<Buffer> {
    const parts = entry.parts ?? [];
    const pending = parts.slice(0, this.options.readAhead).map((part) => this.chunk(part.chunk));
    for (const [index, part] of parts.entries()) {
      const next = parts[index + this.options.readAhead];
      if (next !== undefined) pending.push(this.chunk(next.chunk));
      const chunk = await (pending.shift() as Promise<Buffer>);
      if (part.offset + part.length > chunk.length) {
        throw new Error(
          `${entry.path}: part at ${part.offset}+${part.length} lies beyond chunk ${part.chunk} (${chunk.length} bytes)`,
        );
      }
      yield chunk.subarray(part.offset, part.offset + part.length);
    }
  }

  private chunk(id: string): Promise<Buffer> {
    const cached = this.cache.get(id);
    if (cached !== undefined) {
      // Most recently used last, so the oldest is the one dropped.
      this.cache.delete(id);
      this.cache.set(id, cached);
      return cached;
    }
    const fetched = this.chunks.getChunk(id);
    // A failed fetch is not kept: a retry of the restore fetches again.
    fetched.catch(() => this.cache.delete(id));
    this.cache.set(id, fetched);
    const oldest = this.cache.keys().next().value;
    if (this.cache.size > this.options.cachedChunks + this.options.readAhead && oldest !== undefined) {
      this.cache.delete(oldest);
    }
    return fetched;
  }
}
