import { describe, expect, it } from "vitest";
import { type ChunkLayout, chunksToWrite } from "../../../functions/lib/volumes/chunk-diff.ts";

const layout = (chunks: (string | null)[], chunkBytes = 4): ChunkLayout => ({
  volumeBytes: chunks.length * chunkBytes,
  chunkBytes,
  chunks,
});

describe("chunksToWrite", () => {
  it("writes every data chunk and no hole into a fresh volume", () => {
    expect(chunksToWrite(layout(["a", null, "b", "a"]), { kind: "fresh" })).toEqual([
      { index: 0, kind: "data" },
      { index: 2, kind: "data" },
      { index: 3, kind: "data" },
    ]);
  });

  it("writes only changed chunks into a standby volume, zeros for new holes", () => {
    const restored = layout(["a", null, "b", "c"]);
    expect(
      chunksToWrite(layout(["a", "d", null, "c"]), { kind: "restored", restored, interrupted: [] }),
    ).toEqual([
      { index: 1, kind: "data" },
      { index: 2, kind: "zero" },
    ]);
    expect(chunksToWrite(restored, { kind: "restored", restored, interrupted: [] })).toEqual([]);
  });

  it("also rewrites chunks an interrupted restore may have half-written", () => {
    const restored = layout(["a", "b", "c"]);
    const interrupted = layout(["x", "b", null]);
    expect(
      chunksToWrite(layout(["a", "b", "d"]), { kind: "restored", restored, interrupted: [interrupted] }),
    ).toEqual([
      { index: 0, kind: "data" },
      { index: 2, kind: "data" },
    ]);
  });

  it("rewrites everything, zeros included, when the geometry changed or the device is unknown", () => {
    const all = [
      { index: 0, kind: "data" },
      { index: 1, kind: "zero" },
    ];
    const restored = layout(["a", null], 8);
    expect(chunksToWrite(layout(["a", null]), { kind: "restored", restored, interrupted: [] })).toEqual(all);
    expect(chunksToWrite(layout(["a", null]), { kind: "unknown" })).toEqual(all);
  });
});
