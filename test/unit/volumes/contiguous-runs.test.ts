import { describe, expect, it } from "vitest";
import { bytesOf, contiguousRuns } from "../../../functions/lib/volumes/stage-range.ts";

describe("contiguousRuns", () => {
  it("groups consecutive chunk indexes into bounded runs", () => {
    expect(contiguousRuns([1, 2, 3, 5, 6, 9], 2)).toEqual([
      { first: 1, count: 2 },
      { first: 3, count: 1 },
      { first: 5, count: 2 },
      { first: 9, count: 1 },
    ]);
    expect(contiguousRuns([], 8)).toEqual([]);
  });
});

describe("bytesOf", () => {
  it("ends at the volume's end", () => {
    expect(bytesOf(2, 2, 10, 35)).toEqual({ offset: 20, length: 15 });
    expect(bytesOf(0, 1, 10, 35)).toEqual({ offset: 0, length: 10 });
  });
});
