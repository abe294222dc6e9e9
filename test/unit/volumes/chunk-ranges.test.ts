import { describe, expect, it } from "vitest";
import { chunkExtent, planChunkRanges } from "../../../functions/lib/volumes/chunk-ranges.ts";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

describe("planChunkRanges", () => {
  it("covers the volume with contiguous ranges of whole chunks", () => {
    const ranges = planChunkRanges(1 * GiB + 3 * MiB, 4 * MiB, { minRangeBytes: 100 * MiB });
    expect(ranges[0]).toEqual({ index: 0, firstChunk: 0, chunkCount: 25, offset: 0, length: 100 * MiB });
    let next = 0;
    for (const [i, r] of ranges.entries()) {
      expect(r.index).toBe(i);
      expect(r.offset).toBe(next);
      expect(r.firstChunk * 4 * MiB).toBe(r.offset);
      next = r.offset + r.length;
    }
    expect(next).toBe(1 * GiB + 3 * MiB);
    expect(ranges.at(-1)?.length).toBe(1 * GiB + 3 * MiB - 10 * 100 * MiB);
    expect(ranges.at(-1)?.chunkCount).toBe(7); // 27 MiB: six whole chunks and a partial one
  });

  it("keeps small volumes in one range and large ones within the target count", () => {
    expect(planChunkRanges(10 * MiB, 4 * MiB)).toHaveLength(1);
    expect(planChunkRanges(1 * GiB, 4 * MiB)).toHaveLength(4); // 256 MiB minimum
    expect(planChunkRanges(1024 * GiB, 4 * MiB)).toHaveLength(256);
    expect(planChunkRanges(1024 * GiB, 4 * MiB)[0]?.length).toBe(4 * GiB);
  });

  it("caps range size, so very large volumes get more ranges", () => {
    const ranges = planChunkRanges(4096 * GiB, 4 * MiB);
    expect(ranges).toHaveLength(512);
    expect(ranges[0]?.length).toBe(8 * GiB);
  });

  it("rejects nonsense sizes", () => {
    expect(() => planChunkRanges(0, 4 * MiB)).toThrow(/positive/);
    expect(() => planChunkRanges(10, 0)).toThrow(/positive/);
    expect(() => planChunkRanges(1.5, 4)).toThrow(/positive/);
  });
});

describe("chunkExtent", () => {
  it("gives the last chunk its partial length", () => {
    expect(chunkExtent(2, 10, 4)).toEqual({ offset: 8, length: 2 });
    expect(chunkExtent(1, 10, 4)).toEqual({ offset: 4, length: 4 });
    expect(() => chunkExtent(3, 10, 4)).toThrow(/outside/);
  });
});
