import { z } from "zod";
import type { BlobStore } from "../repository/blob-store.ts";
import type { ContentStore } from "../repository/content-store.ts";

/**
 * A staged range: the chunk ids of one range of a volume, written once the range's chunks are
 * all in the repository. The commit step assembles a volume's manifest from its parts, and a
 * rerun of a range finds its part and does nothing.
 */
export const rangePartSchema = z.object({
  version: z.literal(1),
  rangeIndex: z.number().int().nonnegative(),
  firstChunk: z.number().int().nonnegative(),
  /** Chunk ids in order; null for a hole. */
  chunks: z.array(
    z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .nullable(),
  ),
  stats: z.object({
    holes: z.number().int().nonnegative(),
    newChunks: z.number().int().nonnegative(),
    storedBytes: z.number().int().nonnegative(),
  }),
});

export type RangePart = z.infer<typeof rangePartSchema>;

export interface VolumeKey {
  runId: string;
  /** Source namespace and PVC name. */
  namespace: string;
  pvc: string;
}

/** The narrow store the volume steps need for parts. */
export interface RangePartStore {
  writeRangePart(volume: VolumeKey, part: RangePart): Promise<void>;
  readRangePart(volume: VolumeKey, rangeIndex: number): Promise<RangePart | undefined>;
  deleteRangeParts(volume: VolumeKey): Promise<void>;
}

/**
 * Parts kept with the repository's own primitives until its manifest layer has a place for
 * them: the part's JSON is stored as an ordinary (encrypted, authenticated) content chunk, and a
 * small pointer object under the run's prefix names that chunk. The pointer reveals only a
 * keyed chunk id; the run's prefix makes the pointer go with the run when the run is deleted.
 */
export class ChunkBackedRangeParts implements RangePartStore {
  constructor(
    private readonly store: BlobStore,
    private readonly content: ContentStore,
  ) {}

  async writeRangePart(volume: VolumeKey, part: RangePart): Promise<void> {
    const { id } = await this.content.putChunk(Buffer.from(JSON.stringify(rangePartSchema.parse(part))));
    await this.store.put(pointerKey(volume, part.rangeIndex), Buffer.from(id));
  }

  async readRangePart(volume: VolumeKey, rangeIndex: number): Promise<RangePart | undefined> {
    const pointer = await this.store.get(pointerKey(volume, rangeIndex));
    if (pointer === undefined) return undefined;
    const json = await this.content.getChunk(pointer.toString("utf8"));
    return rangePartSchema.parse(JSON.parse(json.toString("utf8")));
  }

  async deleteRangeParts(volume: VolumeKey): Promise<void> {
    for await (const info of this.store.list(partsPrefix(volume))) await this.store.delete(info.key);
  }
}

const partsPrefix = (v: VolumeKey) => `runs/${v.runId}/parts/${v.namespace}/${v.pvc}/`;
const pointerKey = (v: VolumeKey, rangeIndex: number) =>
  `${partsPrefix(v)}${String(rangeIndex).padStart(6, "0")}`;
