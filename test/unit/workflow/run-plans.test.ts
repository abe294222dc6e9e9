import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FilesystemBlobStore } from "../../../functions/lib/repository/filesystem-blob-store.ts";
import { migrationRequestSchema } from "../../../functions/lib/workflow/request.ts";
import { recordRestoredRange, restoredTotals } from "../../../functions/lib/workflow/restored-ranges.ts";
import {
  PlanMissing,
  readStagePlan,
  readVolumeList,
  writeStagePlan,
  writeVolumeList,
} from "../../../functions/lib/workflow/run-plans.ts";
import { snapshotCutSchema } from "../../../functions/lib/workflow/volume-state.ts";

const folder = mkdtempSync(join(tmpdir(), "kubeferry-run-plans-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));
const store = new FilesystemBlobStore(folder);
const run = {
  id: "run-7",
  execution: "arn:aws:states:local:0:execution:m:run-7",
  startedAt: "2026-01-01T00:00:00Z",
  request: migrationRequestSchema.parse({ pair: "p", namespaces: ["shop"] }),
};
const deps = {
  repositoryObjectKey: (repository: string, key: string) => `repositories/${repository}/${key}`,
};
const range = (index: number) => ({ index, firstChunk: index, chunkCount: 1, offset: index * 4, length: 4 });

describe("run plans", () => {
  it("go to the run's prefix; the state gets their keys and sums only", async () => {
    const volume = {
      source: {
        namespace: "shop",
        pvc: "data",
        snapshot: "s",
        volumeBytes: 8,
        volumeMode: "Block" as const,
        storageClass: "fast",
        accessModes: ["ReadWriteOnce"],
        requestedStorage: "8",
        labels: {},
      },
      transport: "block" as const,
      reason: "storage class fast, driver d: block copy of a snapshot of class s",
      target: { cluster: "c", namespace: "n", pod: "p", container: "c", volume: "v" },
      chunkBytes: 4,
      rangeCount: 2,
    };
    const items = [0, 1].map((index) => ({ volume: 0, range: range(index) }));
    // Keys follow the repository (a reversed pair shares its origin's), not the pair.
    const summary = await writeStagePlan(
      deps,
      { name: "shared", store },
      run,
      { version: 1, volumes: [volume] },
      items,
    );
    expect(summary).toEqual({
      plan: "runs/run-7/plans/stage.json",
      items: "repositories/shared/runs/run-7/plans/ranges.json",
      volumes: 1,
      ranges: 2,
      bytes: 8,
    });
    expect(JSON.parse(String(await store.get("runs/run-7/plans/ranges.json")))).toEqual(items);
    expect((await readStagePlan(store, summary.plan)).volumes).toEqual([volume]);
  });

  it("a missing plan is PlanMissing, naming where it was looked for", async () => {
    const reading = readStagePlan(store, "runs/gone/plans/stage.json");
    await expect(reading).rejects.toBeInstanceOf(PlanMissing);
    await expect(reading).rejects.toThrow("runs/gone/plans/stage.json");
  });
});

describe("volume lists", () => {
  it("go beside the plans; the state gets a key and a count, the same size for one volume or thousands", async () => {
    const cuts = Array.from({ length: 3000 }, (_, i) => ({
      namespace: "shop",
      pvc: `data-${i}`,
      transport: "block" as const,
      reason: "block copy",
      snapshot: `s-${i}`,
    }));
    const list = await writeVolumeList(store, run, "snapshots", cuts);
    expect(list).toEqual({ key: "runs/run-7/plans/snapshots.json", count: 3000 });
    expect(await readVolumeList(store, list, snapshotCutSchema)).toEqual(cuts);
    const empty = await writeVolumeList(store, run, "selected", []);
    expect(await readVolumeList(store, empty, snapshotCutSchema)).toEqual([]);
  });
});

describe("restored ranges", () => {
  it("are summed per volume, each range once however often it was rerun", async () => {
    const volume = { runId: "run-7", namespace: "shop", pvc: "data" };
    const written = (n: number) => ({
      rangeIndex: n,
      writtenChunks: n,
      zeroedChunks: 1,
      streamedBytes: 10 * n,
    });
    await recordRestoredRange(store, volume, 0, written(0));
    await recordRestoredRange(store, volume, 1, written(1));
    await recordRestoredRange(store, volume, 2, written(3));
    await recordRestoredRange(store, volume, 2, written(2));
    await recordRestoredRange(store, { ...volume, pvc: "other" }, 0, written(5));
    expect(await restoredTotals(store, volume)).toEqual({ bytesWritten: 30, chunksWritten: 6 });
  });
});
