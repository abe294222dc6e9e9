import { createHash } from "node:crypto";
import { mapBounded } from "../bounded-map.ts";
import { ExecFailed } from "../errors.ts";
import { type ChunkRange, chunkExtent, describeBytes } from "./chunk-ranges.ts";
import type { ChunkRepository } from "./chunk-repository.ts";
import { parseHashLines } from "./hash-lines.ts";
import { hashChunksScript, readBytesScript } from "./helper-scripts.ts";
import { describeTarget, type ExecTarget, type PodExec } from "./pod-exec.ts";
import type { RangePartStore } from "./range-parts.ts";
import { zeroDigest } from "./zero-digest.ts";

/**
 * Chunks hashed per exec (64 MiB at the default chunk size): long enough to amortize the exec,
 * short enough that batches pipeline and a retry is cheap.
 */
export const HASH_BATCH_CHUNKS = 16;
/** Contiguous chunks read per exec; bounds memory to about podConcurrency × this × chunk size. */
const READ_BATCH_CHUNKS = 8;
/** Chunks of one read being hashed, encrypted and uploaded at once. */
const PUTS_IN_FLIGHT = 4;

export interface StageRangeInput {
  runId: string;
  /** The source PVC this range belongs to. */
  namespace: string;
  pvc: string;
  /** The source helper pod. */
  target: ExecTarget;
  volumeBytes: number;
  chunkBytes: number;
  range: ChunkRange;
  /** Execs in flight against the helper pod (default 2). The run's bound is the Map's MaxConcurrency. */
  podConcurrency?: number;
}

export interface StageRangeOutput {
  rangeIndex: number;
  chunks: number;
  holes: number;
  /** Chunks this call added to the repository. */
  newChunks: number;
  /** Bytes the repository grew by. */
  storedBytes: number;
  /** Chunk bytes that crossed the exec stream (only chunks the repository lacked). */
  streamedBytes: number;
  /** Bytes of digest lines that crossed the exec stream. */
  digestBytes: number;
  /** True when an earlier attempt had finished the range: nothing was done. */
  alreadyStaged: boolean;
}

/**
 * Stages one range of a source volume into the repository: the pod hashes every chunk; chunks
 * that are all zeros become holes; chunks whose ids the repository already has are skipped
 * without being read; the rest are read through exec, checked against the pod's digest, and put
 * (put-if-absent). The range's part is written last, so a range either has a part and all its
 * chunks, or is staged again from the start — re-uploading nothing that arrived before.
 */
export async function stageRange(
  deps: { exec: PodExec; chunks: ChunkRepository; parts: RangePartStore },
  input: StageRangeInput,
): Promise<StageRangeOutput> {
  const { exec, chunks, parts } = deps;
  const { range, chunkBytes, volumeBytes, target } = input;
  const key = { runId: input.runId, namespace: input.namespace, pvc: input.pvc };
  const concurrency = input.podConcurrency ?? 2;

  const existing = await parts.read(key, range.index);
  if (existing !== undefined) {
    return {
      rangeIndex: range.index,
      chunks: existing.chunks.length,
      holes: existing.stats.holes,
      newChunks: 0,
      storedBytes: 0,
      streamedBytes: 0,
      digestBytes: 0,
      alreadyStaged: true,
    };
  }

  // Batches run as a pipeline (one can be hashed in the pod while another's chunks are read):
  // hash pass → ids and holes → which ids the repository lacks → read pass of those only.
  const batches: { first: number; count: number }[] = [];
  const end = range.firstChunk + range.chunkCount;
  for (let first = range.firstChunk; first < end; first += HASH_BATCH_CHUNKS) {
    batches.push({ first, count: Math.min(HASH_BATCH_CHUNKS, end - first) });
  }
  const ids: (string | null)[] = new Array(range.chunkCount).fill(null);
  const rangeDigests: string[] = new Array(range.chunkCount).fill("");
  // Ids some batch has taken on to read: a chunk repeated within the range is read once.
  const claimed = new Set<string>();
  const totals = { streamedBytes: 0, digestBytes: 0, newChunks: 0, storedBytes: 0 };

  await mapBounded(batches, concurrency, async ({ first, count }) => {
    const hashed = bytesOf(first, count, chunkBytes, volumeBytes);
    const what = `hash pass, ${describeBytes(hashed.offset, hashed.length)}`;
    const output = await exec.run(target, {
      script: hashChunksScript(first, count, chunkBytes, volumeBytes),
      what,
    });
    totals.digestBytes += output.length;
    const digests = parseHashLines(
      output.toString("utf8"),
      first,
      count,
      `${describeTarget(target)}, ${what}`,
    );
    digests.forEach((digest, k) => {
      const { length } = chunkExtent(first + k, volumeBytes, chunkBytes);
      rangeDigests[first + k - range.firstChunk] = digest;
      ids[first + k - range.firstChunk] =
        digest === zeroDigest(length) ? null : chunks.chunkIdForDigest(Buffer.from(digest, "hex"));
    });
    const batchIds = ids.slice(first - range.firstChunk, first - range.firstChunk + count);
    const unique = [...new Set(batchIds.filter((id): id is string => id !== null && !claimed.has(id)))];
    for (const id of unique) claimed.add(id);
    const present = await mapBounded(unique, 16, (id) => chunks.reuseChunk(id));
    const missing = new Set(unique.filter((_, i) => !present[i]));
    const toRead: number[] = [];
    batchIds.forEach((id, k) => {
      if (id !== null && missing.delete(id)) toRead.push(first + k);
    });

    for (const run of contiguousRuns(toRead, READ_BATCH_CHUNKS)) {
      const bytes = bytesOf(run.first, run.count, chunkBytes, volumeBytes);
      const readWhat = `read pass, ${describeBytes(bytes.offset, bytes.length)}`;
      const data = await exec.run(target, {
        script: readBytesScript(bytes.offset, bytes.length),
        what: readWhat,
      });
      totals.streamedBytes += data.length;
      if (data.length !== bytes.length) {
        throw new ExecFailed(
          `${describeTarget(target)}, ${readWhat}: got ${data.length} bytes, expected ${bytes.length}; rerun the range`,
        );
      }
      const indexes = Array.from({ length: run.count }, (_, k) => run.first + k);
      await mapBounded(indexes, PUTS_IN_FLIGHT, async (index) => {
        const extent = chunkExtent(index, volumeBytes, chunkBytes);
        const plaintext = data.subarray(
          extent.offset - bytes.offset,
          extent.offset - bytes.offset + extent.length,
        );
        if (createHash("sha256").update(plaintext).digest("hex") !== digests[index - first]) {
          throw new ExecFailed(
            `${describeTarget(target)}, chunk ${index} (${describeBytes(extent.offset, extent.length)}): the bytes read ` +
              "do not match the digest of the hash pass; the stream was damaged or the device changed — rerun the range",
          );
        }
        const stored = await chunks.putChunk(plaintext);
        if (stored.created) totals.newChunks++;
        totals.storedBytes += stored.storedBytes;
      });
    }
  });

  const holes = ids.filter((id) => id === null).length;
  await parts.write(key, {
    version: 2,
    rangeIndex: range.index,
    firstChunk: range.firstChunk,
    chunks: ids,
    digests: rangeDigests,
    stats: { holes, newChunks: totals.newChunks, storedBytes: totals.storedBytes },
  });
  return {
    rangeIndex: range.index,
    chunks: ids.length,
    holes,
    ...totals,
    alreadyStaged: false,
  };
}

/** Byte extent of `count` chunks from `first`. */
export function bytesOf(first: number, count: number, chunkBytes: number, volumeBytes: number) {
  const offset = first * chunkBytes;
  const end = Math.min((first + count) * chunkBytes, volumeBytes);
  return { offset, length: end - offset };
}

/** Sorted chunk indexes → runs of consecutive indexes, each at most `max` long. */
export function contiguousRuns(indexes: readonly number[], max: number): { first: number; count: number }[] {
  const runs: { first: number; count: number }[] = [];
  for (const index of indexes) {
    const last = runs.at(-1);
    if (last && last.first + last.count === index && last.count < max) last.count++;
    else runs.push({ first: index, count: 1 });
  }
  return runs;
}
