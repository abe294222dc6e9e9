/**
 * The tar the file transport speaks with busybox `tar` in a helper pod: ustar headers, GNU long
 * names ("././@LongLink", types L and K) for paths and link targets past 100 bytes — what busybox
 * writes and reads — and base-256 sizes for files past 8 GiB. PAX headers (type x) are read for
 * the path, link target and size, in case an image's tar writes them.
 */

const BLOCK = 512;

export type TarType = "file" | "directory" | "symlink" | "hardlink";

export interface TarHeader {
  path: string;
  type: TarType;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  size: number;
  /** A symlink's target, or the path a hard link joins. */
  linkName?: string;
}

export interface TarEntry extends TarHeader {
  content: Buffer;
}

const typeFlags: Record<TarType, string> = { file: "0", hardlink: "1", symlink: "2", directory: "5" };

/** The blocks that announce one entry: long-name blocks where needed, then the ustar header. */
export function tarHeaderBlocks(header: TarHeader): Buffer {
  const blocks: Buffer[] = [];
  const path = header.type === "directory" ? `${header.path}/` : header.path;
  if (Buffer.byteLength(path) > 100) blocks.push(longName("L", path));
  if (header.linkName !== undefined && Buffer.byteLength(header.linkName) > 100) {
    blocks.push(longName("K", header.linkName));
  }
  blocks.push(
    ustarHeader({
      name: path,
      typeFlag: typeFlags[header.type],
      mode: header.mode,
      uid: header.uid,
      gid: header.gid,
      mtime: header.mtime,
      size: header.type === "file" ? header.size : 0,
      linkName: header.linkName ?? "",
    }),
  );
  return Buffer.concat(blocks);
}

/** Zeros that fill a file's content up to the next block. */
export function tarPadding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}

/** Two zero blocks: the end of an archive. */
export function tarEnd(): Buffer {
  return Buffer.alloc(2 * BLOCK);
}

function longName(type: "L" | "K", name: string): Buffer {
  const data = Buffer.from(`${name}\0`);
  const header = ustarHeader({
    name: "././@LongLink",
    typeFlag: type,
    mode: 0,
    uid: 0,
    gid: 0,
    mtime: 0,
    size: data.length,
    linkName: "",
  });
  return Buffer.concat([header, data, tarPadding(data.length)]);
}

interface RawHeader {
  name: string;
  typeFlag: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  size: number;
  linkName: string;
}

function ustarHeader(raw: RawHeader): Buffer {
  const block = Buffer.alloc(BLOCK);
  block.write(truncated(raw.name, 100), 0, "utf8");
  writeOctal(block, 100, 8, raw.mode);
  writeOctal(block, 108, 8, raw.uid);
  writeOctal(block, 116, 8, raw.gid);
  writeNumber(block, 124, 12, raw.size);
  writeOctal(block, 136, 12, Math.max(0, raw.mtime));
  block.write(raw.typeFlag, 156, "ascii");
  block.write(truncated(raw.linkName, 100), 157, "utf8");
  block.write("ustar\x0000", 257, "binary");
  // The checksum is computed with its own field read as spaces.
  block.fill(" ", 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "ascii");
  return block;
}

function truncated(value: string, bytes: number): string {
  const encoded = Buffer.from(value);
  return encoded.length <= bytes ? value : encoded.subarray(0, bytes).toString("utf8");
}

function writeOctal(block: Buffer, offset: number, width: number, value: number): void {
  block.write(`${value.toString(8).padStart(width - 1, "0")}\0`, offset, "ascii");
}

/** Octal where it fits, else GNU base-256 (first byte 0x80, big-endian binary). */
function writeNumber(block: Buffer, offset: number, width: number, value: number): void {
  if (value < 8 ** (width - 1)) {
    writeOctal(block, offset, width, value);
    return;
  }
  block[offset] = 0x80;
  let rest = BigInt(value);
  for (let i = width - 1; i > 0; i--) {
    block[offset + i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
}

export class TarInvalid extends Error {
  override readonly name = "TarInvalid";
}

function readNumber(block: Buffer, offset: number, width: number): number {
  const first = block[offset] ?? 0;
  if (first & 0x80) {
    let value = 0n;
    for (let i = 1; i < width; i++) value = (value << 8n) | BigInt(block[offset + i] ?? 0);
    return Number(value);
  }
  const text = block
    .toString("ascii", offset, offset + width)
    .replace(/[\0 ]+$/, "")
    .trim();
  return text === "" ? 0 : Number.parseInt(text, 8);
}

function readString(block: Buffer, offset: number, width: number): string {
  const field = block.subarray(offset, offset + width);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? width : end).toString("utf8");
}

const typesByFlag: Record<string, TarType> = {
  "0": "file",
  "\0": "file",
  "7": "file",
  "1": "hardlink",
  "2": "symlink",
  "5": "directory",
};

/**
 * The entries of a whole archive, in order (their contents are views of `archive`), and the bytes
 * after its end blocks, where a script may report more.
 */
export function readArchive(archive: Buffer): { entries: TarEntry[]; trailer: Buffer } {
  const entries: TarEntry[] = [];
  const end = readEntries(archive, entries);
  return { entries, trailer: archive.subarray(end) };
}

/** Parses entries into `entries` and returns the offset after the end blocks. */
function readEntries(archive: Buffer, entries: TarEntry[]): number {
  let offset = 0;
  let longPath: string | undefined;
  let longLink: string | undefined;
  let pax: Record<string, string> = {};
  while (offset + BLOCK <= archive.length) {
    const block = archive.subarray(offset, offset + BLOCK);
    if (block.every((byte) => byte === 0)) return endOfArchive(archive, offset);
    verifyChecksum(block, offset);
    const typeFlag = String.fromCharCode(block[156] ?? 0);
    let size = readNumber(block, 124, 12);
    if (pax.size !== undefined) size = Number(pax.size);
    const dataStart = offset + BLOCK;
    const content = archive.subarray(dataStart, dataStart + size);
    if (content.length < size) throw new TarInvalid(`the archive ends inside an entry at byte ${offset}`);
    offset = dataStart + size + tarPadding(size).length;
    if (typeFlag === "L" || typeFlag === "K") {
      const name = content.toString("utf8").replace(/\0+$/, "");
      if (typeFlag === "L") longPath = name;
      else longLink = name;
      continue;
    }
    if (typeFlag === "x") {
      pax = { ...pax, ...paxRecords(content) };
      continue;
    }
    if (typeFlag === "g") continue;
    const type = typesByFlag[typeFlag];
    if (type === undefined)
      throw new TarInvalid(
        `entry at byte ${offset} has type ${JSON.stringify(typeFlag)}, which is not moved`,
      );
    const prefix = readString(block, 345, 155);
    const name =
      longPath ??
      pax.path ??
      (prefix === "" ? readString(block, 0, 100) : `${prefix}/${readString(block, 0, 100)}`);
    const linkName = longLink ?? pax.linkpath ?? readString(block, 157, 100);
    entries.push({
      path: name.replace(/\/+$/, "").replace(/^\.\//, "") || ".",
      type,
      mode: readNumber(block, 100, 8) & 0o7777,
      uid: readNumber(block, 108, 8),
      gid: readNumber(block, 116, 8),
      mtime: readNumber(block, 136, 12),
      size: type === "file" ? size : 0,
      linkName: type === "symlink" || type === "hardlink" ? linkName : undefined,
      content,
    });
    longPath = undefined;
    longLink = undefined;
    pax = {};
  }
  throw new TarInvalid("the archive ends without its end blocks");
}

/**
 * The offset after the zero blocks that end an archive: busybox writes two, then pads to its
 * record size (10 KiB) with more, so every zero block here belongs to the archive.
 */
function endOfArchive(archive: Buffer, offset: number): number {
  let end = offset;
  while (end + BLOCK <= archive.length && archive.subarray(end, end + BLOCK).every((byte) => byte === 0))
    end += BLOCK;
  return end;
}

function verifyChecksum(block: Buffer, offset: number): void {
  const stored = readNumber(block, 148, 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : (block[i] ?? 0);
  if (sum !== stored) throw new TarInvalid(`header at byte ${offset} has a wrong checksum`);
}

/** "<length> key=value\n" records. */
function paxRecords(data: Buffer): Record<string, string> {
  const records: Record<string, string> = {};
  let offset = 0;
  while (offset < data.length) {
    const space = data.indexOf(0x20, offset);
    if (space === -1) break;
    const length = Number(data.toString("ascii", offset, space));
    if (!Number.isInteger(length) || length <= 0) break;
    const record = data.toString("utf8", space + 1, offset + length - 1);
    const equals = record.indexOf("=");
    if (equals > 0) records[record.slice(0, equals)] = record.slice(equals + 1);
    offset += length;
  }
  return records;
}
