import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  collectGarbage,
  defaultSafetyMarginMs,
} from "../../../functions/lib/repository/garbage-collection.ts";
import type { RunRecord } from "../../../functions/lib/repository/manifests.ts";
import type { Repository } from "../../../functions/lib/repository/repository.ts";
import { applyRetention, expiredRuns } from "../../../functions/lib/repository/retention.ts";
import { writeImage } from "../../repository-images/image-writer.ts";
import { openTestRepository } from "./fixtures.ts";

const record = (
  runId: string,
  minute: number,
  namespaces: string[],
  status: RunRecord["status"] = "Succeeded",
): RunRecord => ({
  version: 1,
  runId,
  pair: "onprem-to-west",
  status,
  startedAt: new Date(Date.UTC(2026, 10, 26, 5, minute)).toISOString(),
  namespaces,
  volumes: [],
});

describe("retention", () => {
  it("keeps the newest runs of each namespace and drops the older ones", () => {
    const records = [1, 2, 3, 4, 5].map((minute) => record(`shop-${minute}`, minute, ["shop"]));
    expect(expiredRuns(records, 2).sort()).toEqual(["shop-1", "shop-2", "shop-3"]);
  });

  it("counts each namespace on its own, and keeps a run while any of its namespaces keeps it", () => {
    const records = [
      record("both-1", 1, ["shop", "crm"]),
      record("shop-2", 2, ["shop"]),
      record("shop-3", 3, ["shop"]),
      record("crm-4", 4, ["crm"]),
    ];
    // shop keeps shop-3, shop-2; crm keeps crm-4, both-1.
    expect(expiredRuns(records, 2)).toEqual([]);
    expect(expiredRuns(records, 1).sort()).toEqual(["both-1", "shop-2"]);
  });

  it("counts drills apart: scheduled drills never push a run out, and are kept by the same rule among themselves", () => {
    const drill = (runId: string, minute: number): RunRecord => ({
      ...record(runId, minute, ["shop"]),
      drillOf: "shop-1",
    });
    const records = [
      record("shop-1", 1, ["shop"]),
      record("shop-2", 2, ["shop"]),
      drill("drill-3", 3),
      drill("drill-4", 4),
      drill("drill-5", 5),
    ];
    expect(expiredRuns(records, 2).sort()).toEqual(["drill-3"]);
  });

  it("keeps the newest successful run even after failures, and never drops or counts a running one", () => {
    const records = [
      record("ok-1", 1, ["shop"]),
      record("failed-2", 2, ["shop"], "Failed"),
      record("failed-3", 3, ["shop"], "Failed"),
      record("running-4", 4, ["shop"], "Running"),
    ];
    expect(expiredRuns(records, 1)).toEqual(["failed-2"]);
  });

  it("judges records written before they named their namespaces by their volumes'", () => {
    const old = (runId: string, minute: number): RunRecord => {
      const { namespaces: _namespaces, ...rest } = record(runId, minute, []);
      return {
        ...rest,
        volumes: [
          { namespace: "shop", name: "data", stats: { chunks: 1, holes: 0, newChunks: 1, newBytes: 1 } },
        ],
      };
    };
    expect(expiredRuns([old("a", 1), old("b", 2), record("c", 3, ["shop"])], 2)).toEqual(["a"]);
  });

  it("refuses a count below one, naming the setting", () => {
    expect(() => expiredRuns([], 0)).toThrow(/keepRuns must be a whole number of at least 1/);
  });

  it("drops the records past retention from a repository, after which the sweep frees their chunks", async () => {
    const { repository } = await openTestRepository();
    for (const minute of [1, 2, 3]) await stageRun(repository, record(`run-${minute}`, minute, ["shop"]));
    // A run that failed before writing its record: no date to judge it by, so it stays.
    await stageVolume(repository, "run-unrecorded");

    const dry = await applyRetention(repository, { keepRuns: 1, dryRun: true });
    expect(dry.droppedRuns.sort()).toEqual(["run-1", "run-2"]);
    expect((await repository.manifests.listRunIds()).sort()).toHaveLength(4);

    const report = await applyRetention(repository, { keepRuns: 1 });
    expect(report).toEqual({ keepRuns: 1, droppedRuns: expect.any(Array), keptRuns: 1 });
    expect((await repository.manifests.listRunIds()).sort()).toEqual(["run-3", "run-unrecorded"]);
    // The first pass marks the dropped runs' chunks; one past the safety margin deletes them.
    await collectGarbage(repository, { owner: "gc" });
    const swept = await collectGarbage(repository, {
      owner: "gc",
      now: () => new Date(Date.now() + defaultSafetyMarginMs + 3_600_000),
    });
    // Each run staged one chunk of its own.
    expect(swept.deletedChunks).toHaveLength(2);
  });
});

async function stageVolume(repository: Repository, runId: string): Promise<void> {
  const data = randomBytes(1024);
  const { manifest } = await writeImage(repository.content, [data], data.length, { chunkSize: 1024 });
  await repository.manifests.writeVolumeManifest({
    version: 1,
    runId,
    namespace: "shop",
    name: "data",
    createdAt: new Date().toISOString(),
    image: manifest,
  });
}

async function stageRun(repository: Repository, run: RunRecord): Promise<void> {
  await stageVolume(repository, run.runId);
  await repository.manifests.writeRunRecord(run);
}
