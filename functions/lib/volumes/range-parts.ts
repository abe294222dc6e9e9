import { z } from "zod";
import { mapBounded } from "../bounded-map.ts";
import type { BlobStore } from "../repository/blob-store.ts";
import type { ContentStore } from "../repository/content-store.ts";
import { ChunkMissing } from "../repository/errors.ts";
import { treePlanParts, treeRestoreParts, treeSliceParts } from "./files/tree-parts.ts";

const hexDigest = z.string().regex(/^[0-9a-f]{64}$/);

/**
 * A staged range: the chunk ids of one range of a volume, written once the range's chunks are
 * all in the repository. The commit step assembles a volume's manifest from its parts, and a
 * rerun of a range finds its part and does nothing.
 */
export const rangePartSchema = z
  .object({
    version: z.literal(2),
    rangeIndex: z.number().int().nonnegative(),
    firstChunk: z.number().int().nonnegative(),
    /** Chunk ids in order; null for a hole. */
    chunks: z.array(hexDigest.nullable()),
    /** The hash pass's SHA-256 of every chunk in order, holes included: the volume digest's input. */
    digests: z.array(hexDigest),
    stats: z.object({
      holes: z.number().int().nonnegative(),
      newChunks: z.number().int().nonnegative(),
      storedBytes: z.number().int().nonnegative(),
    }),
  })
  .refine((part) => part.digests.length === part.chunks.length, {
    message: "a staged part needs one digest per chunk",
  });

/**
 * A restored range: the SHA-256 of every chunk of one range as the destination pod read it back
 * after the range was written, holes included. Verification combines them into the volume digest.
 */
export const restoredPartSchema = z.object({
  version: z.literal(1),
  rangeIndex: z.number().int().nonnegative(),
  firstChunk: z.number().int().nonnegative(),
  digests: z.array(hexDigest),
});

export type RangePart = z.infer<typeof rangePartSchema>;
export type RestoredPart = z.infer<typeof restoredPartSchema>;

export interface VolumeKey {
  runId: string;
  /** Namespace and PVC name: the source PVC's for staged parts, the final PVC's for restored ones. */
  namespace: string;
  pvc: string;
}

/** Where one kind of part lives under a run, and its shape. */
export interface PartKind<Part extends { rangeIndex: number }> {
  folder: string;
  schema: z.ZodType<Part>;
  /** The content chunks the part names (besides its own chunk), which garbage collection keeps. */
  chunksNamed(part: Part): string[];
}

export const stagedParts: PartKind<RangePart> = {
  folder: "parts",
  schema: rangePartSchema,
  chunksNamed: (part) => part.chunks.filter((id): id is string => id !== null),
};
export const restoredParts: PartKind<RestoredPart> = {
  folder: "restored",
  schema: restoredPartSchema,
  chunksNamed: () => [],
};

/**
 * The chunk ids a run's range parts hold on to, every kind of part: each part's own chunk and
 * the chunks it names. Garbage collection keeps them; a new kind of part must be added here.
 */
export async function* runPartChunkIds(store: BlobStore, content: ContentStore, runId: string) {
  yield* partChunkIds(store, content, stagedParts, runId);
  yield* partChunkIds(store, content, restoredParts, runId);
  yield* partChunkIds(store, content, treePlanParts, runId);
  yield* partChunkIds(store, content, treeSliceParts, runId);
  yield* partChunkIds(store, content, treeRestoreParts, runId);
}

/** A pointer whose part chunk is already gone names nothing more that could be kept. */
async function* partChunkIds<Part extends { rangeIndex: number }>(
  store: BlobStore,
  content: ContentStore,
  kind: PartKind<Part>,
  runId: string,
): AsyncIterable<string> {
  for await (const info of store.list(`runs/${runId}/${kind.folder}/`)) {
    const pointer = await store.get(info.key);
    if (pointer === undefined) continue;
    const partId = pointer.toString("utf8");
    yield partId;
    let json: Buffer;
    try {
      json = await content.getChunk(partId);
    } catch (error) {
      if (error instanceof ChunkMissing) continue;
      throw error;
    }
    yield* kind.chunksNamed(kind.schema.parse(JSON.parse(json.toString("utf8"))));
  }
}

/** The narrow store the volume steps need for one kind of part. */
export interface PartStore<Part extends { rangeIndex: number }> {
  write(volume: VolumeKey, part: Part): Promise<void>;
  read(volume: VolumeKey, rangeIndex: number): Promise<Part | undefined>;
  /** Every part of the volume, in range order. */
  readAll(volume: VolumeKey): Promise<Part[]>;
  deleteAll(volume: VolumeKey): Promise<void>;
}

export type RangePartStore = PartStore<RangePart>;
export type RestoredPartStore = PartStore<RestoredPart>;

/**
 * Parts kept with the repository's own primitives until its manifest layer has a place for
 * them: the part's JSON is stored as an ordinary (encrypted, authenticated) content chunk, and a
 * small pointer object under the run's prefix names that chunk. The pointer reveals only a
 * keyed chunk id; the run's prefix makes the pointer go with the run when the run is deleted.
 */
export class ChunkBackedParts<Part extends { rangeIndex: number }> implements PartStore<Part> {
  constructor(
    private readonly store: BlobStore,
    private readonly content: ContentStore,
    private readonly kind: PartKind<Part>,
  ) {}

  async write(volume: VolumeKey, part: Part): Promise<void> {
    const { id } = await this.content.putChunk(Buffer.from(JSON.stringify(this.kind.schema.parse(part))));
    await this.store.put(this.pointerKey(volume, part.rangeIndex), Buffer.from(id));
  }

  read(volume: VolumeKey, rangeIndex: number): Promise<Part | undefined> {
    return this.readPointer(this.pointerKey(volume, rangeIndex));
  }

  async readAll(volume: VolumeKey): Promise<Part[]> {
    const keys: string[] = [];
    for await (const info of this.store.list(this.prefix(volume))) keys.push(info.key);
    // Pointer names are zero-padded range indexes, so their order is the ranges' order.
    keys.sort();
    const parts = await mapBounded(keys, 16, (key) => this.readPointer(key));
    return parts.filter((part): part is Part => part !== undefined);
  }

  async deleteAll(volume: VolumeKey): Promise<void> {
    for await (const info of this.store.list(this.prefix(volume))) await this.store.delete(info.key);
  }

  private async readPointer(key: string): Promise<Part | undefined> {
    const pointer = await this.store.get(key);
    if (pointer === undefined) return undefined;
    const json = await this.content.getChunk(pointer.toString("utf8"));
    return this.kind.schema.parse(JSON.parse(json.toString("utf8")));
  }

  private prefix(v: VolumeKey): string {
    // Keep in step with partChunkIds, which lists every volume's parts under runs/<run>/<folder>/.
    return `runs/${v.runId}/${this.kind.folder}/${v.namespace}/${v.pvc}/`;
  }

  private pointerKey(v: VolumeKey, rangeIndex: number): string {
    return `${this.prefix(v)}${String(rangeIndex).padStart(6, "0")}`;
  }
}
