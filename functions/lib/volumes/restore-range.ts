import { createHash } from "node:crypto";
import { mapBounded } from "../bounded-map.ts";
import { ChunkCorrupt, ChunkMissing, VerifyFailed } from "../errors.ts";
import type { VolumeManifest } from "../repository/manifests.ts";
import { type ChunkLayout, type ChunkWrite, chunksToWrite, type DeviceContents } from "./chunk-diff.ts";
import { type ChunkRange, chunkExtent, describeBytes } from "./chunk-ranges.ts";
import { type ChunkRepository, readManifest, type VolumeManifests } from "./chunk-repository.ts";
import { parseHashLines } from "./hash-lines.ts";
import { hashChunksScript, writeBytesScript, writeZerosScript } from "./helper-scripts.ts";
import { describeTarget, type PodExec } from "./pod-exec.ts";
import type { RestoredPartStore } from "./range-parts.ts";
import { describeManifest, type RestoreTarget, restoredPartsKey } from "./restore-target.ts";
import { bytesOf, contiguousRuns, HASH_BATCH_CHUNKS } from "./stage-range.ts";
import { zeroDigest } from "./zero-digest.ts";

/** Contiguous chunks written per exec; bounds memory to about podConcurrency × this × chunk size. */
const WRITE_BATCH_CHUNKS = 8;

export interface RestoreRangeInput {
  restore: RestoreTarget;
  range: ChunkRange;
  /** Execs in flight against the helper pod (default 2). */
  podConcurrency?: number;
}

export interface RestoreRangeOutput {
  rangeIndex: number;
  /** Chunks downloaded and written. */
  writtenChunks: number;
  /** Chunks zeroed in the pod (holes the device did not read as zeros). */
  zeroedChunks: number;
  /** Chunk bytes that crossed the exec stream. */
  streamedBytes: number;
}

/**
 * Writes one range of a volume on the destination. The chunks the device is known to hold
 * already (holes of a fresh volume, unchanged chunks of a standby) are hashed in the pod first,
 * and any that differ — a thick volume's leftovers, a standby changed behind our back — join the
 * chunks to write. Those are downloaded, verified by the repository and written at their offsets
 * with exact lengths (zeros from /dev/zero in the pod); the pod then hashes what it wrote, which
 * must match. The range's part records the digest of every chunk as read from the device, which
 * verification combines into the whole-volume digest. Rewriting a chunk is harmless, so the range
 * is idempotent.
 */
export async function restoreRange(
  deps: { exec: PodExec; chunks: ChunkRepository; manifests: VolumeManifests; restored: RestoredPartStore },
  input: RestoreRangeInput,
): Promise<RestoreRangeOutput> {
  const { exec, chunks } = deps;
  const { restore, range } = input;
  const concurrency = input.podConcurrency ?? 2;
  const target = (await readManifest(deps.manifests, restore.manifest)).image;
  const layout = toLayout(target);
  const device = await deviceContents(deps.manifests, restore.device);
  const end = range.firstChunk + range.chunkCount;
  const planned = chunksToWrite(layout, device).filter((w) => w.index >= range.firstChunk && w.index < end);
  const volume = `${describeManifest(restore.manifest)} into ${describeTarget(restore.target)}`;
  const digests: string[] = new Array(range.chunkCount).fill("");
  const record = (index: number, digest: string) => {
    digests[index - range.firstChunk] = digest;
  };
  const kindOf = (index: number): ChunkWrite["kind"] => (target.chunks[index] === null ? "zero" : "data");

  const plannedIndexes = new Set(planned.map((w) => w.index));
  const kept = indexes({ first: range.firstChunk, count: range.chunkCount }).filter(
    (i) => !plannedIndexes.has(i),
  );
  const differing: ChunkWrite[] = [];
  await mapBounded(contiguousRuns(kept, HASH_BATCH_CHUNKS), concurrency, async (run) => {
    const bytes = bytesOf(run.first, run.count, target.chunkSize, target.size);
    const what = `hash pass, chunks ${run.first}-${run.first + run.count - 1} (${describeBytes(bytes.offset, bytes.length)})`;
    const output = await exec.run(restore.target, {
      script: hashChunksScript(run.first, run.count, target.chunkSize, target.size),
      what,
    });
    const found = parseHashLines(
      output.toString("utf8"),
      run.first,
      run.count,
      `${describeTarget(restore.target)}, ${what}`,
    );
    found.forEach((digest, k) => {
      const index = run.first + k;
      if (holds(chunks, target, index, digest)) record(index, digest);
      else differing.push({ index, kind: kindOf(index) });
    });
  });

  const writes = [...planned, ...differing].sort((a, b) => a.index - b.index);
  const batches = [...runsOf(writes, "data"), ...runsOf(writes, "zero")];
  let streamedBytes = 0;
  await mapBounded(batches, concurrency, async (batch) => {
    const bytes = bytesOf(batch.first, batch.count, target.chunkSize, target.size);
    const what = `write pass, chunks ${batch.first}-${batch.first + batch.count - 1} (${describeBytes(bytes.offset, bytes.length)})`;
    const verify = {
      firstChunk: batch.first,
      chunkCount: batch.count,
      chunkBytes: target.chunkSize,
      volumeBytes: target.size,
    };
    let expected: string[];
    let output: Buffer;
    if (batch.kind === "zero") {
      expected = indexes(batch).map((i) => zeroDigest(chunkExtent(i, target.size, target.chunkSize).length));
      output = await exec.run(restore.target, {
        script: writeZerosScript(bytes.offset, bytes.length, verify),
        what,
      });
    } else {
      const plaintexts = await Promise.all(indexes(batch).map((i) => fetchChunk(chunks, target, i, volume)));
      expected = plaintexts.map((p) => createHash("sha256").update(p).digest("hex"));
      const stdin = Buffer.concat(plaintexts);
      output = await exec.run(restore.target, {
        script: writeBytesScript(bytes.offset, bytes.length, verify),
        what,
        stdin,
      });
      streamedBytes += stdin.length;
    }
    const written = parseHashLines(
      output.toString("utf8"),
      batch.first,
      batch.count,
      `${describeTarget(restore.target)}, ${what}`,
    );
    written.forEach((digest, k) => {
      if (digest !== expected[k]) {
        const extent = chunkExtent(batch.first + k, target.size, target.chunkSize);
        throw new VerifyFailed(
          `${volume}: chunk ${batch.first + k} (${describeBytes(extent.offset, extent.length)}) reads back with ` +
            `SHA-256 ${digest} after writing, expected ${expected[k]}; the device did not keep the write — check the volume, then rerun the range`,
        );
      }
      record(batch.first + k, digest);
    });
  });

  await deps.restored.write(restoredPartsKey(restore), {
    version: 1,
    rangeIndex: range.index,
    firstChunk: range.firstChunk,
    digests,
  });
  return {
    rangeIndex: range.index,
    writtenChunks: writes.filter((w) => w.kind === "data").length,
    zeroedChunks: writes.filter((w) => w.kind === "zero").length,
    streamedBytes,
  };
}

/** Whether a chunk the device already holds, hashed in the pod, is the manifest's chunk. */
function holds(
  chunks: ChunkRepository,
  image: VolumeManifest["image"],
  index: number,
  digest: string,
): boolean {
  const id = image.chunks[index];
  if (id === null || id === undefined) {
    return digest === zeroDigest(chunkExtent(index, image.size, image.chunkSize).length);
  }
  return chunks.chunkIdForDigest(Buffer.from(digest, "hex")) === id;
}

async function fetchChunk(
  chunks: ChunkRepository,
  image: VolumeManifest["image"],
  index: number,
  volume: string,
): Promise<Buffer> {
  const id = image.chunks[index] as string;
  const extent = chunkExtent(index, image.size, image.chunkSize);
  const where = `chunk ${index} (${describeBytes(extent.offset, extent.length)}) of ${volume}`;
  let data: Buffer;
  try {
    data = await chunks.getChunk(id);
  } catch (error) {
    // The repository's ChunkCorrupt/ChunkMissing name the repository and chunk id; the
    // volume, position and byte range are added here, keeping the error's type for routing.
    if (error instanceof ChunkCorrupt || error instanceof ChunkMissing) error.message += ` — ${where}`;
    throw error;
  }
  if (data.length !== extent.length) {
    throw new ChunkCorrupt(
      chunks.repository,
      id,
      `${data.length} bytes where ${where} needs ${extent.length}`,
    );
  }
  return data;
}

function runsOf(writes: ChunkWrite[], kind: ChunkWrite["kind"]) {
  const selected = writes.filter((w) => w.kind === kind).map((w) => w.index);
  return contiguousRuns(selected, WRITE_BATCH_CHUNKS).map((run) => ({ ...run, kind }));
}

function indexes(run: { first: number; count: number }): number[] {
  return Array.from({ length: run.count }, (_, k) => run.first + k);
}

function toLayout(image: VolumeManifest["image"]): ChunkLayout {
  return { volumeBytes: image.size, chunkBytes: image.chunkSize, chunks: image.chunks };
}

/**
 * Loads the layouts the device may hold. A manifest that no longer exists (its run was deleted)
 * means the device's contents are unknown: everything is rewritten.
 */
async function deviceContents(
  manifests: VolumeManifests,
  device: RestoreTarget["device"],
): Promise<DeviceContents> {
  if (device.kind !== "restored") return device;
  try {
    const restored = toLayout((await readManifest(manifests, device.restored)).image);
    const interrupted = await Promise.all(
      device.interrupted.map(async (ref) => toLayout((await readManifest(manifests, ref)).image)),
    );
    return { kind: "restored", restored, interrupted };
  } catch (error) {
    if ((error as Error).name === "ManifestMissing") return { kind: "unknown" };
    throw error;
  }
}
