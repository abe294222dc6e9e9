import { createHash, randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { defaultChunkSize } from "../functions/lib/repository/image-manifest.ts";
import { MiB, mibPerSecond, progress, timed } from "./measure.ts";

/**
 * The file transport's choice between fixed-offset and content-defined chunking of large files,
 * decided by measurement: large files of random bytes, changed the three ways a next run sees them
 * (database pages rewritten in place, a log appended to, bytes inserted near the start), chunked
 * before and after each way by both chunkers; what a rerun would upload is the bytes of the
 * chunks the first version lacks. The cost side: the content-defined cut-point scan's speed
 * against SHA-256's, which every byte pays anyway. The content-defined chunker (a gear hash,
 * average 4 MiB, min 1 MiB, max 16 MiB, the sizes restic and Kopia use in kind) lives here only:
 * the measurement chose fixed offsets (see the README's file transport).
 */

const { values: options } = parseArgs({
  options: { json: { type: "boolean", default: false }, files: { type: "string", default: "8" } },
});
const FILE_BYTES = 64 * MiB;
const PAGE = 8 * 1024;

type Chunker = (data: Buffer) => Buffer[];

const fixed: Chunker = (data) => {
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < data.length; offset += defaultChunkSize)
    chunks.push(data.subarray(offset, offset + defaultChunkSize));
  return chunks;
};

/** A seeded gear table: cut points depend on content only, the same in every run. */
const gear = (() => {
  const table = new Uint32Array(256);
  let seed = 0x9e3779b9;
  for (let i = 0; i < 256; i++) {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    table[i] = seed >>> 0;
  }
  return table;
})();

const contentDefined: Chunker = (data) => {
  const min = MiB;
  const max = 16 * MiB;
  // 22 bits: a cut about every 4 MiB past the minimum.
  const mask = (1 << 22) - 1;
  const chunks: Buffer[] = [];
  let start = 0;
  while (start < data.length) {
    let hash = 0;
    let end = Math.min(data.length, start + max);
    for (let i = start + min; i < end; i++) {
      hash = ((hash << 1) + (gear[data[i] as number] as number)) >>> 0;
      if ((hash & mask) === 0) {
        end = i + 1;
        break;
      }
    }
    chunks.push(data.subarray(start, end));
    start = end;
  }
  return chunks;
};

const digest = (chunk: Buffer) => createHash("sha256").update(chunk).digest("hex");

/** Bytes of the chunks of `after` that `before` does not have: what a rerun uploads. */
function newBytes(chunker: Chunker, before: Buffer[], after: Buffer[]): number {
  const held = new Set(before.flatMap((file) => chunker(file).map(digest)));
  let bytes = 0;
  for (const file of after)
    for (const chunk of chunker(file)) if (!held.has(digest(chunk))) bytes += chunk.length;
  return bytes;
}

const changes: Record<string, (file: Buffer) => { file: Buffer; changed: number }> = {
  /** 16 of the 8 KiB pages rewritten where they are, a few rows updated (PostgreSQL, MySQL, SQLite). */
  pages_in_place: (file) => {
    const copy = Buffer.from(file);
    const pages = 16;
    for (let i = 0; i < pages; i++)
      randomBytes(PAGE).copy(copy, Math.floor(Math.random() * (file.length / PAGE)) * PAGE);
    return { file: copy, changed: pages * PAGE };
  },
  /** 1 MiB appended (a WAL segment or log growing). */
  append: (file) => ({ file: Buffer.concat([file, randomBytes(MiB)]), changed: MiB }),
  /** 4 KiB inserted near the start (a rewritten text or archive file): every later offset shifts. */
  insert_near_start: (file) => ({
    file: Buffer.concat([file.subarray(0, 100_000), randomBytes(4096), file.subarray(100_000)]),
    changed: 4096,
  }),
};

const files = Array.from({ length: Number(options.files) }, () => randomBytes(FILE_BYTES));
const total = files.length * FILE_BYTES;
const result: Record<string, number> = { files: files.length, bytes: total };
for (const [name, change] of Object.entries(changes)) {
  progress(`changing the files: ${name}`);
  const after = files.map((file) => change(file));
  result[`${name}_changed_bytes`] = after.reduce((sum, a) => sum + a.changed, 0);
  for (const [chunkerName, chunker] of [
    ["fixed", fixed],
    ["cdc", contentDefined],
  ] as const) {
    result[`${name}_${chunkerName}_uploaded_bytes`] = newBytes(
      chunker,
      files,
      after.map((a) => a.file),
    );
  }
}
progress("timing the cut-point scan and SHA-256");
const scan = await timed(async () => files.map((file) => contentDefined(file).length));
const hash = await timed(async () => files.map(digest));
result.cdc_scan_mib_s = mibPerSecond(total, scan.seconds);
result.sha256_mib_s = mibPerSecond(total, hash.seconds);
result.cdc_scan_cost_of_sha256 = Math.round((scan.seconds / hash.seconds) * 100) / 100;
if (options.json) console.log(JSON.stringify(result));
else console.log(result);
