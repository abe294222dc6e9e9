import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { TreePacker } from "../../../../functions/lib/volumes/files/tree-packer.ts";
import type { ListedPath } from "../../../../functions/lib/volumes/files/tree-plan.ts";

const KiB = 1024;
const packing = { smallFileBytes: 64 * KiB, chunkBytes: 256 * KiB, concurrency: 2 };

/** Keeps a copy of every chunk by its SHA-256 (the packer may reuse a buffer once stored). */
class MemoryChunks {
  readonly chunks = new Map<string, Buffer>();

  async putChunk(plaintext: Uint8Array) {
    const id = createHash("sha256").update(plaintext).digest("hex");
    const created = !this.chunks.has(id);
    this.chunks.set(id, Buffer.from(plaintext));
    return { id, created, storedBytes: created ? plaintext.length : 0 };
  }
}

function listed(path: string, size: number): ListedPath {
  return { path, type: "file", mode: 0o644, uid: 0, gid: 0, mtime: 0, size, inode: path, links: 1 };
}

function bytes(seed: string, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let offset = 0, i = 0; offset < length; i++) {
    offset += createHash("sha256").update(`${seed}/${i}`).digest().copy(out, offset);
  }
  return out;
}

async function* pieces(data: Buffer, pieceBytes: number): AsyncIterable<Uint8Array> {
  for (let offset = 0; offset < data.length; offset += pieceBytes) {
    yield data.subarray(offset, offset + pieceBytes);
  }
}

describe("TreePacker", () => {
  it("cuts a file that outgrows the small-file size mid-stream at chunk offsets, and packs small files around it", async () => {
    const chunks = new MemoryChunks();
    const packer = new TreePacker(chunks, [], packing);
    const files = [
      { path: "a", data: bytes("a", 40 * KiB) },
      // Arrives in pieces smaller than the small-file size, so it is first written into the pack.
      { path: "b", data: bytes("b", 700 * KiB + 5) },
      { path: "c", data: bytes("c", 30 * KiB) },
      { path: "d", data: bytes("a", 40 * KiB) },
      { path: "e", data: bytes("e", 64 * KiB) },
    ];
    for (const { path, data } of files)
      await packer.addFile(listed(path, data.length), pieces(data, 10 * KiB));
    const entries = await packer.finish();

    const byPath = new Map(entries.map((entry) => [entry.path, entry]));
    expect(byPath.get("b")?.parts?.map((part) => part.length)).toEqual([256 * KiB, 256 * KiB, 188 * KiB + 5]);
    // d repeats a: it is not packed again.
    expect(byPath.get("d")?.parts).toEqual(byPath.get("a")?.parts);
    expect(byPath.get("a")?.parts?.[0]?.offset).toBe(0);
    expect(byPath.get("c")?.parts?.[0]?.offset).toBe(40 * KiB);
    expect(byPath.get("e")?.parts?.[0]?.offset).toBe(70 * KiB);
    expect(packer.stats).toMatchObject({ filesRead: 5, filesDeduplicated: 1, newChunks: 4 });
    for (const { path, data } of files) {
      const parts = byPath.get(path)?.parts ?? [];
      const read = parts.map(({ chunk, offset, length }) =>
        (chunks.chunks.get(chunk) as Buffer).subarray(offset, offset + length),
      );
      expect(Buffer.concat(read).equals(data)).toBe(true);
      expect(byPath.get(path)?.sha256).toBe(createHash("sha256").update(data).digest("hex"));
    }
  });
});
