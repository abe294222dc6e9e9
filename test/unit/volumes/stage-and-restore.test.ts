import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FilesystemBlobStore } from "../../../functions/lib/repository/filesystem-blob-store.ts";
import { LocalKeyProvider } from "../../../functions/lib/repository/local-key-provider.ts";
import { openRepository, type Repository } from "../../../functions/lib/repository/repository.ts";
import { planChunkRanges } from "../../../functions/lib/volumes/chunk-ranges.ts";
import { commitVolume } from "../../../functions/lib/volumes/commit-volume.ts";
import { systemClock } from "../../../functions/lib/volumes/kube-calls.ts";
import { ChunkBackedRangeParts } from "../../../functions/lib/volumes/range-parts.ts";
import { restoreRange } from "../../../functions/lib/volumes/restore-range.ts";
import type { RestoreTarget } from "../../../functions/lib/volumes/restore-target.ts";
import { stageRange } from "../../../functions/lib/volumes/stage-range.ts";
import { HostShellExec, target } from "./host-shell-exec.ts";

// The data path of stage → commit → restore with real scripts, a real repository on disk and
// files as devices; only the Kubernetes parts (snapshots, PVCs, pods) are left out.

const KiB = 1024;
const chunkBytes = 64 * KiB;
const volumeBytes = 40 * chunkBytes + 5000; // a partial last chunk
let dir: string;
let repository: Repository;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "kf-stage-"));
  repository = await openRepository({
    name: "unit",
    store: new FilesystemBlobStore(join(dir, "repo")),
    keyProvider: new LocalKeyProvider(join(dir, "key")),
  });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

function image(): Buffer {
  const data = Buffer.alloc(volumeBytes);
  for (let i = 0; i < 41; i++) {
    const length = Math.min(chunkBytes, volumeBytes - i * chunkBytes);
    if (i % 3 === 0) randomBytes(length).copy(data, i * chunkBytes);
    if (i % 3 === 1 && i > 1) data.copy(data, i * chunkBytes, 0, length); // repeats chunk 0
  }
  return data;
}

async function stageAll(runId: string, exec: HostShellExec, pod: string) {
  const parts = new ChunkBackedRangeParts(repository.store, repository.content);
  const ranges = planChunkRanges(volumeBytes, chunkBytes, { minRangeBytes: 8 * chunkBytes });
  const outputs = [];
  for (const range of ranges) {
    outputs.push(
      await stageRange(
        { exec, chunks: repository.content, parts },
        { runId, namespace: "ns", pvc: "data", target: target(pod), volumeBytes, chunkBytes, range },
      ),
    );
  }
  const commit = await commitVolume(
    { exec, parts, manifests: repository.manifests, clock: systemClock },
    {
      runId,
      namespace: "ns",
      pvc: "data",
      target: target(pod),
      volumeBytes,
      chunkBytes,
      rangeCount: ranges.length,
    },
  );
  return { ranges, outputs, commit };
}

async function restoreAll(restore: RestoreTarget, exec: HostShellExec) {
  const outputs = [];
  for (const range of planChunkRanges(volumeBytes, chunkBytes, { minRangeBytes: 8 * chunkBytes })) {
    outputs.push(
      await restoreRange(
        { exec, chunks: repository.content, manifests: repository.manifests },
        { restore, range },
      ),
    );
  }
  return outputs;
}

describe("stage, commit and restore through helper scripts", () => {
  it("round-trips a volume, then updates a standby with only the changed chunks", async () => {
    const source = join(dir, "source.img");
    const destination = join(dir, "destination.img");
    const original = image();
    await writeFile(source, original);
    await writeFile(destination, Buffer.alloc(volumeBytes));
    const exec = new HostShellExec(
      new Map([
        ["src", source],
        ["dst", destination],
      ]),
    );

    const first = await stageAll("run-1", exec, "src");
    expect(first.ranges).toHaveLength(6);
    expect(first.commit.sha256).toBe(sha(original));
    expect(first.commit.chunks).toBe(41);
    // Chunks 1, 2, 5, 8, … are zeros; 4, 7, … repeat chunk 0 and are stored and read once.
    const contents = Array.from({ length: 41 }, (_, i) =>
      original.subarray(i * chunkBytes, (i + 1) * chunkBytes),
    );
    const holes = contents.filter((c) => c.every((b) => b === 0)).length;
    const unique = new Set(contents.filter((c) => c.some((b) => b !== 0)).map(sha)).size;
    expect(holes).toBe(14);
    expect(unique).toBe(15); // 14 random chunks and the short last one
    expect(first.commit.holes).toBe(holes);
    expect(first.commit.newChunks).toBe(unique);
    expect(first.outputs.reduce((n, o) => n + o.streamedBytes, 0)).toBe((unique - 1) * chunkBytes + 5000);

    const fresh: RestoreTarget = {
      runId: "run-1",
      mode: "fresh",
      target: target("dst"),
      claimName: "kf-dst",
      claimNamespace: "kubeferry-system",
      finalPvc: { namespace: "ns", name: "data" },
      manifest: { runId: "run-1", namespace: "ns", pvc: "data" },
      device: { kind: "fresh" },
    };
    const restored = await restoreAll(fresh, exec);
    expect(restored.reduce((n, o) => n + o.writtenChunks, 0)).toBe(41 - holes);
    expect(sha(await readFile(destination))).toBe(sha(original));

    // A rerun: one chunk changed, one became zeros, the rest as before.
    const changed = Buffer.from(original);
    randomBytes(chunkBytes).copy(changed, 9 * chunkBytes);
    changed.fill(0, 3 * chunkBytes, 4 * chunkBytes);
    await writeFile(source, changed);
    const streamedBefore = exec.stdoutBytes;
    const second = await stageAll("run-2", exec, "src");
    expect(second.commit.newChunks).toBe(1);
    expect(second.outputs.reduce((n, o) => n + o.streamedBytes, 0)).toBe(chunkBytes);
    expect(exec.stdoutBytes - streamedBefore).toBe(
      chunkBytes + second.outputs.reduce((n, o) => n + o.digestBytes, 0) + 65,
    );

    const stdinBefore = exec.stdinBytes;
    const standby: RestoreTarget = {
      ...fresh,
      runId: "run-2",
      mode: "standby",
      manifest: { runId: "run-2", namespace: "ns", pvc: "data" },
      device: { kind: "restored", restored: fresh.manifest, interrupted: [] },
    };
    const updated = await restoreAll(standby, exec);
    expect(updated.reduce((n, o) => n + o.writtenChunks, 0)).toBe(1);
    expect(updated.reduce((n, o) => n + o.zeroedChunks, 0)).toBe(1);
    expect(exec.stdinBytes - stdinBefore).toBe(chunkBytes);
    expect(sha(await readFile(destination))).toBe(sha(changed));
  });

  it("finds a staged range's part on a rerun and does nothing", async () => {
    const source = join(dir, "again.img");
    await writeFile(source, image());
    const exec = new HostShellExec(new Map([["src", source]]));
    const parts = new ChunkBackedRangeParts(repository.store, repository.content);
    const range = planChunkRanges(volumeBytes, chunkBytes, { minRangeBytes: 8 * chunkBytes })[0];
    if (range === undefined) throw new Error("no range");
    const input = {
      runId: "run-3",
      namespace: "ns",
      pvc: "data",
      target: target("src"),
      volumeBytes,
      chunkBytes,
      range,
    };
    const firstTime = await stageRange({ exec, chunks: repository.content, parts }, input);
    expect(firstTime.alreadyStaged).toBe(false);
    const before = exec.stdoutBytes;
    const again = await stageRange({ exec, chunks: repository.content, parts }, input);
    expect(again).toMatchObject({
      alreadyStaged: true,
      chunks: firstTime.chunks,
      holes: firstTime.holes,
      newChunks: 0,
    });
    expect(exec.stdoutBytes).toBe(before);
  });

  it("fails a commit whose ranges are not all staged, naming the range", async () => {
    const exec = new HostShellExec(new Map());
    const parts = new ChunkBackedRangeParts(repository.store, repository.content);
    await expect(
      commitVolume(
        { exec, parts, manifests: repository.manifests, clock: systemClock },
        {
          runId: "run-4",
          namespace: "ns",
          pvc: "data",
          target: target("src"),
          volumeBytes,
          chunkBytes,
          rangeCount: 2,
        },
      ),
    ).rejects.toThrow("volume ns/data of run run-4: ranges 0, 1 not staged");
  });
});
