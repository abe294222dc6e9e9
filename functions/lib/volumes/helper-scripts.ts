/**
 * Shell scripts run in the helper pod through exec (`sh -c <script>`). The pod runs a stock
 * image (busybox by default; on the local clusters the same scripts run on the host with
 * Debian coreutils), so they use only POSIX sh, dd, sha256sum and wc, and only dd options both
 * implement: status=none, iflag=skip_bytes,count_bytes,fullblock,direct, oflag=seek_bytes,
 * conv=notrunc,fsync. Every script starts from "$KUBEFERRY_DEVICE", the device path the helper
 * pod exposes, and reports failures on stderr: the exec transport treats any stderr output as a
 * failure, which also catches a failing dd whose exit status a pipeline would hide.
 */

/** dd transfer block for byte-addressed reads and writes; offsets and lengths stay exact. */
const IO_BLOCK = 1024 * 1024;

/**
 * pipefail where the shell has it (busybox ash, bash; not dash, which the local host tools use):
 * a dd killed mid-pipeline (OOM, a signal) prints nothing on stderr, and without pipefail the
 * pipeline would succeed with a digest of what it read before it died.
 */
const PRELUDE =
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, not a template.
  'set -eu\n(set -o pipefail) 2>/dev/null && set -o pipefail\nd="${KUBEFERRY_DEVICE:?is not set in the helper pod}"\n';

function assertByteCount(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${what} must be a non-negative integer of bytes, got ${value}`);
  }
}

/** dd reading `length` bytes at `offset` of the device to stdout. */
function readDd(offset: number, length: number): string {
  assertByteCount(offset, "offset");
  assertByteCount(length, "length");
  return `dd if="$d" iflag=skip_bytes,count_bytes bs=${IO_BLOCK} skip=${offset} count=${length} status=none`;
}

/**
 * Prints `<chunk index> <sha256 hex>` for every chunk of [firstChunk, firstChunk+chunkCount),
 * in order. Whole chunks go through one loop (the script stays small however long the range);
 * the volume's last chunk, when partial, gets its own exact-length read.
 */
export function hashChunksScript(
  firstChunk: number,
  chunkCount: number,
  chunkBytes: number,
  volumeBytes: number,
): string {
  return PRELUDE + hashChunksBody({ firstChunk, chunkCount, chunkBytes, volumeBytes }, "cached");
}

/** Which chunks a write script hashes after writing them. */
export interface WrittenChunks {
  firstChunk: number;
  chunkCount: number;
  chunkBytes: number;
  volumeBytes: number;
}

/**
 * How whole chunks are read: "direct" (after a write) bypasses the page cache where the device
 * allows O_DIRECT, so the digests are of what reached the device, not of the cache the write
 * just filled; a device that refuses it is read through the cache. The last partial chunk is
 * read through the cache: O_DIRECT needs aligned lengths.
 */
type ChunkReads = "cached" | "direct";

function hashChunksBody(
  { firstChunk, chunkCount, chunkBytes, volumeBytes }: WrittenChunks,
  reads: ChunkReads,
): string {
  const end = firstChunk + chunkCount;
  const lastWhole = Math.floor(volumeBytes / chunkBytes); // chunks [0, lastWhole) are whole
  const loopEnd = Math.min(end, lastWhole);
  let script = "";
  if (firstChunk < loopEnd) {
    const flags = reads === "direct" ? " $f" : "";
    if (reads === "direct") {
      script += `f=; dd if="$d" iflag=direct bs=${chunkBytes} count=1 status=none >/dev/null 2>&1 && f=iflag=direct\n`;
    }
    script +=
      `i=${firstChunk}\n` +
      `while [ "$i" -lt ${loopEnd} ]; do\n` +
      `  h=$(dd if="$d"${flags} bs=${chunkBytes} skip="$i" count=1 status=none | sha256sum)\n` +
      `  echo "$i \${h%% *}"\n` +
      "  i=$((i + 1))\n" +
      "done\n";
  }
  if (end > lastWhole && lastWhole * chunkBytes < volumeBytes) {
    const offset = lastWhole * chunkBytes;
    script += `h=$(${readDd(offset, volumeBytes - offset)} | sha256sum)\necho "${lastWhole} \${h%% *}"\n`;
  }
  return script;
}

/** Streams `length` bytes at `offset` of the device to stdout. */
export function readBytesScript(offset: number, length: number): string {
  return `${PRELUDE}${readDd(offset, length)}\n`;
}

/**
 * Writes exactly `length` bytes from stdin at `offset` (fullblock + count_bytes: dd stops after
 * `length` bytes and never waits for end of input), flushes them, then prints the digests of
 * the chunks written so the caller can check what landed on the device.
 */
export function writeBytesScript(offset: number, length: number, verify: WrittenChunks): string {
  assertByteCount(offset, "offset");
  assertByteCount(length, "length");
  const write =
    PRELUDE +
    `dd of="$d" iflag=fullblock,count_bytes oflag=seek_bytes bs=${IO_BLOCK} seek=${offset} count=${length} ` +
    "conv=notrunc,fsync status=none\n";
  return write + hashChunksBody(verify, "direct");
}

/**
 * Writes `length` zero bytes at `offset` from /dev/zero inside the pod (a chunk that became a
 * hole on a standby rerun), then prints the digests of the chunks written.
 */
export function writeZerosScript(offset: number, length: number, verify: WrittenChunks): string {
  assertByteCount(offset, "offset");
  assertByteCount(length, "length");
  const write =
    PRELUDE +
    `dd if=/dev/zero of="$d" iflag=count_bytes oflag=seek_bytes bs=${IO_BLOCK} seek=${offset} count=${length} ` +
    "conv=notrunc,fsync status=none\n";
  return write + hashChunksBody(verify, "direct");
}

/**
 * Fails (on stderr) unless the device holds at least `volumeBytes` bytes, by reading its byte
 * at volumeBytes-1: a device shorter than planned would otherwise hash short reads silently.
 */
export function deviceSizeCheckScript(volumeBytes: number): string {
  if (!Number.isSafeInteger(volumeBytes) || volumeBytes <= 0) {
    throw new RangeError(`volume size must be a positive integer of bytes, got ${volumeBytes}`);
  }
  return (
    PRELUDE +
    `n=$(dd if="$d" iflag=skip_bytes bs=1 skip=${volumeBytes - 1} count=1 status=none | wc -c)\n` +
    `[ "$n" -eq 1 ] || { echo "device $d is shorter than ${volumeBytes} bytes" >&2; exit 3; }\n` +
    "echo ok\n"
  );
}
