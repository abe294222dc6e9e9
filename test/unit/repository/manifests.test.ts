import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ManifestInvalid, ManifestMissing } from "../../../functions/lib/repository/errors.ts";
import {
  type RunRecord,
  runRecordSchema,
  type VolumeManifest,
} from "../../../functions/lib/repository/manifests.ts";
import { openTestRepository } from "./fixtures.ts";

const runRecord = (runId: string): RunRecord => ({
  version: 1,
  runId,
  pair: "onprem-to-west",
  status: "Succeeded",
  startedAt: "2026-11-26T05:00:00.000Z",
  finishedAt: "2026-11-26T05:10:00.000Z",
  volumes: [
    { namespace: "shop", name: "data-db-0", stats: { chunks: 2, holes: 1, newChunks: 1, newBytes: 4096 } },
  ],
  resources: { objects: 1 },
});

const volumeManifest = (runId: string): VolumeManifest => ({
  version: 1,
  runId,
  namespace: "shop",
  name: "data-db-0",
  createdAt: "2026-11-26T05:05:00.000Z",
  image: { chunkSize: 4, size: 6, sha256: "a".repeat(64), chunks: ["b".repeat(64), null] },
});

describe("manifests", () => {
  it("round-trips the run record, volume manifests and resource bundle, encrypted", async () => {
    const { repository, root } = await openTestRepository();
    const bundle = {
      version: 1 as const,
      runId: "run-1",
      objects: [{ kind: "ConfigMap", data: { password: "s3cret" } }],
      summary: { "v1 ConfigMap": 1 },
    };
    await repository.manifests.writeRunRecord(runRecord("run-1"));
    await repository.manifests.writeVolumeManifest(volumeManifest("run-1"));
    await repository.manifests.writeResourceBundle(bundle);

    expect(await repository.manifests.readRunRecord("run-1")).toEqual(runRecord("run-1"));
    expect(await repository.manifests.readVolumeManifest("run-1", "shop", "data-db-0")).toEqual(
      volumeManifest("run-1"),
    );
    expect(await repository.manifests.readResourceBundle("run-1")).toEqual(bundle);
    const stored = await readFile(join(root, "runs", "run-1", "resources.json"));
    expect(stored.includes("s3cret")).toBe(false);
    expect(stored.includes("ConfigMap")).toBe(false);
  });

  it("refuses to write what its schema rejects", async () => {
    const { repository } = await openTestRepository();
    const bad = { ...volumeManifest("run-1"), image: { ...volumeManifest("run-1").image, size: 100 } };
    await expect(repository.manifests.writeVolumeManifest(bad)).rejects.toThrow(/chunks must cover size/);
    await expect(repository.manifests.writeRunRecord({ ...runRecord("../x") })).rejects.toThrow();
  });

  it("reports a tampered manifest as ManifestInvalid naming it", async () => {
    const { repository, root } = await openTestRepository();
    await repository.manifests.writeRunRecord(runRecord("run-1"));
    const path = join(root, "runs", "run-1", "run.json");
    const data = await readFile(path);
    data[40] = (data[40] ?? 0) ^ 0x80;
    await writeFile(path, data);
    const error = await repository.manifests.readRunRecord("run-1").catch((caught) => caught);
    expect(error).toBeInstanceOf(ManifestInvalid);
    expect(error.message).toContain("runs/run-1/run.json");
  });

  it("refuses a manifest moved to another run's key (the key is authenticated)", async () => {
    const { repository, root } = await openTestRepository();
    await repository.manifests.writeRunRecord(runRecord("run-1"));
    await repository.manifests.writeRunRecord(runRecord("run-2"));
    await writeFile(
      join(root, "runs", "run-2", "run.json"),
      await readFile(join(root, "runs", "run-1", "run.json")),
    );
    await expect(repository.manifests.readRunRecord("run-2")).rejects.toThrow(ManifestInvalid);
  });

  it("accepts only the versions it knows", () => {
    const record = { ...runRecord("run-1"), version: 2 };
    expect(runRecordSchema.safeParse(record).success).toBe(false);
    expect(runRecordSchema.safeParse({ ...record, version: 1 }).success).toBe(true);
  });

  it("reports a missing manifest as ManifestMissing", async () => {
    const { repository } = await openTestRepository();
    await expect(repository.manifests.readVolumeManifest("run-9", "shop", "pvc")).rejects.toThrow(
      ManifestMissing,
    );
  });

  it("lists runs and their volume manifests, and forgets a deleted run", async () => {
    const { repository } = await openTestRepository();
    await repository.manifests.writeVolumeManifest(volumeManifest("run-1"));
    await repository.manifests.writeVolumeManifest({ ...volumeManifest("run-1"), name: "data-db-1" });
    await repository.manifests.writeRunRecord(runRecord("run-2"));
    expect((await repository.manifests.listRunIds()).sort()).toEqual(["run-1", "run-2"]);
    const names: string[] = [];
    for await (const manifest of repository.manifests.volumeManifests("run-1")) names.push(manifest.name);
    expect(names).toEqual(["data-db-0", "data-db-1"]);
    await repository.manifests.deleteRun("run-1");
    expect(await repository.manifests.listRunIds()).toEqual(["run-2"]);
  });
});
