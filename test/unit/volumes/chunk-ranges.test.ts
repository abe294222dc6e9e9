import { describe, expect, it } from "vitest";
import { chunkExtent, planChunkRanges } from "../../../functions/lib/volumes/chunk-ranges.ts";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

describe("planChunkRanges", () => {
  it("covers the volume with contiguous ranges of whole chunks", () => {
    const ranges = planChunkRanges(1 * GiB + 3 * MiB, 4 * MiB, { rangeBytes: 100 * MiB });
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

  it("bounds every range by time at 20 MiB/s, however large the volume: no count cap", () => {
    expect(planChunkRanges(10 * MiB, 4 * MiB)).toHaveLength(1);
    expect(planChunkRanges(1024 * GiB, 4 * MiB)).toHaveLength(103); // 102 of 10 GiB and 4 GiB
    const tib16 = 16 * 1024 * GiB;
    const ranges = planChunkRanges(tib16, 4 * MiB);
    expect(ranges).toHaveLength(Math.ceil(tib16 / (10 * GiB))); // 1639, far past the old cap of 256
    const longest = Math.max(...ranges.map((r) => r.length));
    expect(longest).toBe(10 * GiB);
    expect(longest / (20 * MiB)).toBeLessThanOrEqual(600);
    expect(ranges.reduce((n, r) => n + r.length, 0)).toBe(tib16);
    expect(ranges.reduce((n, r) => n + r.chunkCount, 0)).toBe(tib16 / (4 * MiB));
    expect(ranges.at(-1)).toMatchObject({ index: 1638, offset: 1638 * 10 * GiB, length: 4 * GiB });
  });

  it("rounds the range size down to whole chunks, and a range holds at least one chunk", () => {
    expect(planChunkRanges(100 * MiB, 4 * MiB, { rangeBytes: 10 * MiB })[0]?.length).toBe(8 * MiB);
    expect(planChunkRanges(10 * GiB + 1, 3 * MiB)[0]?.length).toBe(3413 * 3 * MiB); // < 10 GiB
    expect(planChunkRanges(16 * MiB, 4 * MiB, { rangeBytes: 1 })).toHaveLength(4);
    expect(() => planChunkRanges(16 * MiB, 4 * MiB, { rangeBytes: 0 })).toThrow(/range size/);
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
