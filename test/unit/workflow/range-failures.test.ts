import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ChunkCorrupt } from "../../../functions/lib/repository/errors.ts";
import { FilesystemBlobStore } from "../../../functions/lib/repository/filesystem-blob-store.ts";
import { TransientError } from "../../../functions/lib/repository/transient-errors.ts";
import {
  mapRunFailedError,
  recordingRangeFailure,
  withRangeFailure,
} from "../../../functions/lib/workflow/range-failures.ts";

const folder = mkdtempSync(join(tmpdir(), "kubeferry-range-failures-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));
const store = new FilesystemBlobStore(folder);
const mapRunFailed = {
  Error: mapRunFailedError,
  Cause: "The specified tolerated failure threshold was exceeded",
};
const range = (runId: string, index: number) =>
  ({ runId, task: "RestoreRange", namespace: "shop", pvc: "data", range: index }) as const;

describe("range failures", () => {
  it("a failed range's own error replaces the Map Run's, with how many ranges failed", async () => {
    for (const index of [7, 3]) {
      await expect(
        recordingRangeFailure(store, range("run-1", index), async () => {
          throw new ChunkCorrupt("s3://b/p/", `c${index}`, "authentication failed");
        }),
      ).rejects.toBeInstanceOf(ChunkCorrupt);
    }
    expect(await withRangeFailure(store, "run-1", mapRunFailed)).toEqual({
      Error: "ChunkCorrupt",
      Cause:
        "repository s3://b/p/: chunk c3 is corrupt (authentication failed); delete the object and stage the volume " +
        "again (RestoreRange of shop/data, range 3; 2 ranges failed)",
    });
  });

  it("records nothing for a success or a transient error (the Task retries it), and leaves the Map Run's error then", async () => {
    expect(await recordingRangeFailure(store, range("run-2", 0), async () => 42)).toBe(42);
    await expect(
      recordingRangeFailure(store, range("run-2", 1), async () => {
        throw new TransientError("download cut");
      }),
    ).rejects.toBeInstanceOf(TransientError);
    expect(await withRangeFailure(store, "run-2", mapRunFailed)).toEqual(mapRunFailed);
  });
});
