import { describe, expect, it } from "vitest";
import { runSeed } from "../../repository/gc-model/model.ts";

describe("garbage collection model", () => {
  // A few seeds of `npm run test:gc-model`, so the property runs with every `npm test`.
  it.each([1, 2, 3, 4, 5])("loses no chunk a manifest or range part names (seed %i)", async (seed) => {
    const result = await runSeed(seed);
    expect(result.operations).toBeGreaterThan(0);
    expect(result).toMatchObject({ lostChunks: 0, corruptManifests: 0 });
  });
});
