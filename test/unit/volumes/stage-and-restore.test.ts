import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VerifyFailed } from "../../../functions/lib/errors.ts";
import type { ClusterClient, KubeRequest } from "../../../functions/lib/kube/client/cluster-client.ts";
import { FilesystemBlobStore } from "../../../functions/lib/repository/filesystem-blob-store.ts";
import { LocalKeyProvider } from "../../../functions/lib/repository/local-key-provider.ts";
import { openRepository, type Repository } from "../../../functions/lib/repository/repository.ts";
import { planChunkRanges } from "../../../functions/lib/volumes/chunk-ranges.ts";
import { commitVolume } from "../../../functions/lib/volumes/commit-volume.ts";
import { systemClock } from "../../../functions/lib/volumes/kube-calls.ts";
import { VERIFIED_ANNOTATION } from "../../../functions/lib/volumes/names.ts";
import type { PodExec } from "../../../functions/lib/volumes/pod-exec.ts";
import {
  ChunkBackedParts,
  type RestoredPart,
  restoredParts,
  stagedParts,
} from "../../../functions/lib/volumes/range-parts.ts";
import { restoreRange } from "../../../functions/lib/volumes/restore-range.ts";
import { type RestoreTarget, restoredPartsKey } from "../../../functions/lib/volumes/restore-target.ts";
import { stageRange } from "../../../functions/lib/volumes/stage-range.ts";
import { verifyRestoredVolume } from "../../../functions/lib/volumes/verify-volume.ts";
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

/** The volume digest as defined (volume-digest.ts), computed here from the bytes themselves. */
function volumeDigestOf(data: Buffer): string {
  const hash = createHash("sha256").update(`kubeferry-volume-v1 ${data.length} ${chunkBytes}\n`);
  for (let offset = 0; offset < data.length; offset += chunkBytes) {
    hash.update(
      createHash("sha256")
        .update(data.subarray(offset, offset + chunkBytes))
        .digest(),
    );
  }
  return hash.digest("hex");
}

const stagedStore = () => new ChunkBackedParts(repository.store, repository.content, stagedParts);
const restoredStore = () => new ChunkBackedParts(repository.store, repository.content, restoredParts);

/** Verification's only cluster call is the annotation patch on the temporary PVC: recorded here. */
function recordingClient() {
  const patches: { path: string; body: unknown }[] = [];
  const client: ClusterClient = {
    name: "destination",
    server: "https://127.0.0.1:1",
    kubeConfig: new KubeConfig(),
    async request<T>(request: KubeRequest) {
      patches.push({ path: request.path, body: request.body });
      return { status: 200, body: {} as T };
    },
    close() {},
  };
  return { client, patches };
}

function verify(restore: RestoreTarget, client = recordingClient().client) {
  return verifyRestoredVolume(
    { client, manifests: repository.manifests, restored: restoredStore() },
    restore,
  );
}

function freshTarget(runId: string, pod = "dst"): RestoreTarget {
  return {
    runId,
    pair: "test",
    mode: "fresh",
    target: target(pod),
    claimName: "kf-dst",
    claimNamespace: "kubeferry-system",
    finalPvc: { namespace: "ns", name: "data" },
    manifest: { runId, namespace: "ns", pvc: "data" },
    device: { kind: "fresh" },
  };
}

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
  const parts = stagedStore();
  const ranges = planChunkRanges(volumeBytes, chunkBytes, { rangeBytes: 8 * chunkBytes });
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
    { parts, manifests: repository.manifests, clock: systemClock },
    {
      runId,
      namespace: "ns",
      pvc: "data",
      volumeBytes,
      chunkBytes,
      rangeCount: ranges.length,
    },
  );
  return { ranges, outputs, commit };
}

async function restoreAll(restore: RestoreTarget, exec: PodExec) {
  const outputs = [];
  // Other ranges than staging used: the restored digests do not depend on the plan.
  for (const range of planChunkRanges(volumeBytes, chunkBytes, { rangeBytes: 5 * chunkBytes })) {
    outputs.push(
      await restoreRange(
        { exec, chunks: repository.content, manifests: repository.manifests, restored: restoredStore() },
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
    expect(first.commit.sha256).toBe(volumeDigestOf(original));
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

    const fresh = freshTarget("run-1");
    const restored = await restoreAll(fresh, exec);
    expect(restored.reduce((n, o) => n + o.writtenChunks, 0)).toBe(41 - holes);
    expect(restored.reduce((n, o) => n + o.zeroedChunks, 0)).toBe(0); // the fresh volume reads zeros
    expect(sha(await readFile(destination))).toBe(sha(original));
    const { client, patches } = recordingClient();
    expect(await verify(fresh, client)).toEqual({ sha256: volumeDigestOf(original) });
    expect(patches).toEqual([
      {
        path: "/api/v1/namespaces/kubeferry-system/persistentvolumeclaims/kf-dst",
        body: { metadata: { annotations: { [VERIFIED_ANNOTATION]: volumeDigestOf(original) } } },
      },
    ]);

    // A rerun: one chunk changed, one became zeros, the rest as before.
    const changed = Buffer.from(original);
    randomBytes(chunkBytes).copy(changed, 9 * chunkBytes);
    changed.fill(0, 3 * chunkBytes, 4 * chunkBytes);
    await writeFile(source, changed);
    const streamedBefore = exec.stdoutBytes;
    const second = await stageAll("run-2", exec, "src");
    expect(second.commit.newChunks).toBe(1);
    expect(second.outputs.reduce((n, o) => n + o.streamedBytes, 0)).toBe(chunkBytes);
    // Only the changed chunk and the digest lines: no pass reads the whole device.
    expect(exec.stdoutBytes - streamedBefore).toBe(
      chunkBytes + second.outputs.reduce((n, o) => n + o.digestBytes, 0),
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
    expect(await verify(standby)).toEqual({ sha256: volumeDigestOf(changed) });
  });

  it("finds a staged range's part on a rerun and does nothing", async () => {
    const source = join(dir, "again.img");
    await writeFile(source, image());
    const exec = new HostShellExec(new Map([["src", source]]));
    const parts = stagedStore();
    const range = planChunkRanges(volumeBytes, chunkBytes, { rangeBytes: 8 * chunkBytes })[0];
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
    await expect(
      commitVolume(
        { parts: stagedStore(), manifests: repository.manifests, clock: systemClock },
        {
          runId: "run-4",
          namespace: "ns",
          pvc: "data",
          volumeBytes,
          chunkBytes,
          rangeCount: 2,
        },
      ),
    ).rejects.toThrow("volume ns/data of run run-4: ranges 0, 1 not staged");
  });

  it("zeroes the holes a fresh volume does not read as zeros (a thick volume's leftovers)", async () => {
    const source = join(dir, "thick-source.img");
    const destination = join(dir, "thick-destination.img");
    const original = image();
    await writeFile(source, original);
    await writeFile(destination, Buffer.alloc(volumeBytes, 0xa5));
    const exec = new HostShellExec(
      new Map([
        ["src", source],
        ["dst", destination],
      ]),
    );
    const staged = await stageAll("run-thick", exec, "src");
    const restore = freshTarget("run-thick");
    const restored = await restoreAll(restore, exec);
    expect(restored.reduce((n, o) => n + o.zeroedChunks, 0)).toBe(staged.commit.holes);
    expect(sha(await readFile(destination))).toBe(sha(original));
    expect(await verify(restore)).toEqual({ sha256: volumeDigestOf(original) });
  });

  it("fails the range with VerifyFailed when a byte on the destination changes between write and read-back", async () => {
    const source = join(dir, "flip-source.img");
    const destination = join(dir, "flip-destination.img");
    const original = image();
    await writeFile(source, original);
    await writeFile(destination, Buffer.alloc(volumeBytes));
    const exec = new HostShellExec(
      new Map([
        ["src", source],
        ["dst", destination],
      ]),
    );
    await stageAll("run-flip", exec, "src");
    // A device that does not keep what was written: after the write pass's dd, one byte of
    // chunk 0 is flipped (and flushed: the read-back reads the device, not the page
    // cache, where the device allows O_DIRECT), before the same script hashes the chunks back.
    const flipping: PodExec = {
      run: (pod, run) => {
        const [write, ...rest] = run.script.split(/(?<=conv=notrunc,fsync status=none\n)/);
        if (run.stdin === undefined || rest.length === 0) return exec.run(pod, run);
        const offset = Number(/ seek=(\d+) /.exec(write as string)?.[1]);
        // Only the write at chunk 0: a range writes its runs of data chunks concurrently (0, then
        // 3-4 here), and flipping both would make which one fails first a race.
        if (offset !== 0) return exec.run(pod, run);
        // Written as the complement of the byte there, so that it always changes.
        const changed = ((original[offset + 17] ?? 0) ^ 0xff).toString(8).padStart(3, "0");
        const flip = `printf '\\${changed}' | dd of="$d" bs=1 seek=${offset + 17} conv=notrunc,fsync status=none\n`;
        return exec.run(pod, { ...run, script: `${write}${flip}${rest.join("")}` });
      },
    };
    const restore = freshTarget("run-flip");
    await expect(restoreAll(restore, flipping)).rejects.toThrow(VerifyFailed);
    await expect(restoreAll(restore, flipping)).rejects.toThrow(
      /chunk 0 \(bytes 0-65535\) reads back with SHA-256 [0-9a-f]{64} after writing/,
    );
    // Without a restored part for that range, the volume cannot pass verification either.
    await expect(verify(restore)).rejects.toThrow(/no restored range starting at chunk 0 of 41/);
  });

  it("fails verification when the destination's digests differ from the source's", async () => {
    const source = join(dir, "tamper-source.img");
    const destination = join(dir, "tamper-destination.img");
    const original = image();
    await writeFile(source, original);
    await writeFile(destination, Buffer.alloc(volumeBytes));
    const exec = new HostShellExec(
      new Map([
        ["src", source],
        ["dst", destination],
      ]),
    );
    await stageAll("run-tamper", exec, "src");
    const restore = freshTarget("run-tamper");
    await restoreAll(restore, exec);
    expect(await verify(restore)).toEqual({ sha256: volumeDigestOf(original) });

    // The digest of chunk 12 as if the destination had read one byte differently.
    const parts = restoredStore();
    const key = restoredPartsKey(restore);
    const part = (await parts.readAll(key)).find(
      (p) => p.firstChunk <= 12 && 12 < p.firstChunk + p.digests.length,
    );
    if (part === undefined) throw new Error("no restored part holds chunk 12");
    const wrongChunk = Buffer.from(original.subarray(12 * chunkBytes, 13 * chunkBytes));
    wrongChunk[100] = (wrongChunk[100] as number) ^ 1;
    const tampered: RestoredPart = {
      ...part,
      digests: part.digests.map((d, k) => (part.firstChunk + k === 12 ? sha(wrongChunk) : d)),
    };
    await parts.write(key, tampered);
    const { client, patches } = recordingClient();
    await expect(verify(restore, client)).rejects.toThrow(VerifyFailed);
    await expect(verify(restore, client)).rejects.toThrow(
      `the restored volume's digest is ${volumeDigestOf(Buffer.concat([original.subarray(0, 12 * chunkBytes), wrongChunk, original.subarray(13 * chunkBytes)]))}`,
    );
    expect(patches).toEqual([]); // never marked verified
  });
});
