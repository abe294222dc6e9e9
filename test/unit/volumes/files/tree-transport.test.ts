import { createHash } from "node:crypto";
import { chmod, link, mkdir, readFile, rm, stat, symlink, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { chunkReferences } from "../../../../functions/lib/repository/chunk-references.ts";
import { treeChunkIds } from "../../../../functions/lib/repository/tree-manifest.ts";
import {
  finishTreeRestore,
  planTreeRestore,
  prepareTreeRestore,
  restoreTree,
  restoreTreeContents,
  sliceTreeRestore,
} from "../../../../functions/lib/volumes/files/restore-tree.ts";
import {
  assembleTree,
  planTreeStage,
  stageTree,
  stageTreeSlice,
} from "../../../../functions/lib/volumes/files/stage-tree.ts";
import { TreeContents } from "../../../../functions/lib/volumes/files/tree-contents.ts";
import { firstTreeDifference, treeDigest } from "../../../../functions/lib/volumes/files/tree-digest.ts";
import { treePlanParts, treeSliceParts } from "../../../../functions/lib/volumes/files/tree-parts.ts";
import { TreePathInvalid } from "../../../../functions/lib/volumes/files/tree-plan.ts";
import { ChunkBackedParts } from "../../../../functions/lib/volumes/range-parts.ts";
import { LocalTree } from "../../../file-trees/local-tree.ts";
import { openTestRepository, tempDirectory } from "../../repository/fixtures.ts";

const KiB = 1024;
const packing = { smallFileBytes: 64 * KiB, chunkBytes: 256 * KiB, concurrency: 3 };

function bytes(seed: string, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let offset = 0, i = 0; offset < length; i++) {
    offset += createHash("sha256").update(`${seed}/${i}`).digest().copy(out, offset);
  }
  return out;
}

/** A tree with every kind of entry: small and large files, an empty one, links, modes, a deep path. */
async function sampleTree(root: string): Promise<void> {
  await mkdir(join(root, "pg/base/1"), { recursive: true });
  await mkdir(join(root, "logs"));
  for (let i = 0; i < 40; i++) await writeFile(join(root, `pg/base/1/${i}`), bytes(`small${i}`, 1 + i * 997));
  await writeFile(join(root, "pg/base/1/copy-of-3"), bytes("small3", 1 + 3 * 997));
  await writeFile(join(root, "pg/wal"), bytes("large", 700 * KiB + 5));
  await writeFile(join(root, "empty"), "");
  await symlink("pg/wal", join(root, "current-wal"));
  await link(join(root, "pg/base/1/7"), join(root, "logs/hard-7"));
  await chmod(join(root, "pg"), 0o700);
  await chmod(join(root, "pg/base/1/5"), 0o4750);
  await utimes(join(root, "pg/wal"), 1_600_000_000, 1_600_000_000);
}

/** The sample tree staged into a new repository, and an empty destination folder. */
async function stagedSample() {
  const { repository } = await openTestRepository();
  const source = await tempDirectory();
  const destination = await tempDirectory();
  await sampleTree(source);
  const { tree } = await stageTree(new LocalTree(source), repository.content, undefined, {
    fullPass: false,
    packing,
  });
  return { repository, source, destination, tree };
}

async function entryCount(root: string) {
  return (await new LocalTree(root).list()).length;
}

describe("the file transport's tree, staged and restored in process", () => {
  it("restores every file, mode, owner, mtime, symlink and hard link, and both trees digest alike", async () => {
    const { repository } = await openTestRepository();
    const source = await tempDirectory();
    const destination = await tempDirectory();
    await sampleTree(source);
    const { tree, stats } = await stageTree(new LocalTree(source), repository.content, undefined, {
      fullPass: false,
      packing,
    });
    expect(tree.files).toBe(43);
    expect(stats.filesDeduplicated).toBe(1);
    // 40 small files of ~20 KiB in 256 KiB packs, and the large file in 3 chunks: a few objects.
    expect(treeChunkIds(tree.entries).size).toBeLessThanOrEqual(8);

    await restoreTree(new LocalTree(destination), new TreeContents(repository.content), tree, {
      full: false,
    });
    const restaged = await stageTree(new LocalTree(destination), repository.content, undefined, {
      fullPass: true,
      packing,
    });
    expect(firstTreeDifference(tree.entries, restaged.tree.entries)).toBeUndefined();
    expect(restaged.tree.sha256).toBe(tree.sha256);
    expect(await readFile(join(destination, "pg/wal"))).toEqual(await readFile(join(source, "pg/wal")));
    expect((await stat(join(destination, "pg/base/1/5"))).mode & 0o7777).toBe(0o4750);
    expect((await stat(join(destination, "logs/hard-7"))).ino).toBe(
      (await stat(join(destination, "pg/base/1/7"))).ino,
    );
    expect(await entryCount(destination)).toBe(await entryCount(source));
  });

  it("a rerun reads and stores only changed files; the restore writes only those and removes deleted ones", async () => {
    const { repository } = await openTestRepository();
    const source = await tempDirectory();
    const destination = await tempDirectory();
    await sampleTree(source);
    const first = await stageTree(new LocalTree(source), repository.content, undefined, {
      fullPass: false,
      packing,
    });
    await restoreTree(new LocalTree(destination), new TreeContents(repository.content), first.tree, {
      full: false,
    });

    await writeFile(join(source, "pg/base/1/9"), bytes("changed", 5000));
    await rm(join(source, "pg/base/1/10"));
    await chmod(join(source, "pg/base/1/11"), 0o600);
    const second = await stageTree(new LocalTree(source), repository.content, first.tree, {
      fullPass: false,
      packing,
    });
    expect(second.stats.filesRead).toBe(1);
    expect(second.stats.storedBytes).toBeLessThan(5000 * 1.2 + 64);
    const restored = await restoreTree(
      new LocalTree(destination),
      new TreeContents(repository.content),
      second.tree,
      {
        full: false,
      },
    );
    expect(restored).toEqual({ filesWritten: 1, bytesWritten: 5000, removed: 1 });
    const after = await stageTree(new LocalTree(destination), repository.content, undefined, {
      fullPass: true,
      packing,
    });
    expect(firstTreeDifference(second.tree.entries, after.tree.entries)).toBeUndefined();
  });

  it("restores in parts that separate invocations can do, the shares of contents in any order and again, to the same tree", async () => {
    const { repository, destination, tree } = await stagedSample();
    // Something the tree does not have, where the tree has a directory: preparing removes it.
    await writeFile(join(destination, "logs"), "not a directory");
    const target = new LocalTree(destination);
    const plan = planTreeRestore(tree, await target.list(), { full: false });
    const slices = sliceTreeRestore(plan, { bytes: 100 * KiB, files: 10 });
    expect(slices.remove).toEqual(["logs"]);
    expect(slices.contents.length).toBeGreaterThan(4);
    expect(slices.contents.every((paths) => paths.length <= 10)).toBe(true);
    const contents = new TreeContents(repository.content);
    await prepareTreeRestore(target, tree, slices);
    // Map items run in any order, at once; a retried one (a timed-out invocation) writes the same.
    await Promise.all(
      [...slices.contents].reverse().map((paths) => restoreTreeContents(target, contents, tree, paths)),
    );
    await restoreTreeContents(target, contents, tree, slices.contents[1] ?? []);
    await finishTreeRestore(target, tree, slices);
    const restaged = await stageTree(target, repository.content, undefined, { fullPass: true, packing });
    expect(firstTreeDifference(tree.entries, restaged.tree.entries)).toBeUndefined();
    expect(restaged.tree.sha256).toBe(tree.sha256);
  });

  it("a rerun reads a file rewritten at the same size within the second it was staged in", async () => {
    const { repository } = await openTestRepository();
    const source = await tempDirectory();
    const file = join(source, "counter");
    await writeFile(file, "0001");
    await utimes(file, 1_700_000_000.25, 1_700_000_000.25);
    const first = await stageTree(new LocalTree(source), repository.content, undefined, {
      fullPass: false,
      packing,
    });
    await writeFile(file, "0002");
    await utimes(file, 1_700_000_000.75, 1_700_000_000.75);
    const second = await stageTree(new LocalTree(source), repository.content, first.tree, {
      fullPass: false,
      packing,
    });
    expect(second.stats.filesRead).toBe(1);
    expect(second.tree.sha256).not.toBe(first.tree.sha256);
  });

  it("a full restore rewrites a destination file changed under the same size and mtime", async () => {
    const { repository, source, destination, tree } = await stagedSample();
    await restoreTree(new LocalTree(destination), new TreeContents(repository.content), tree, {
      full: false,
    });
    const wal = join(destination, "pg/wal");
    await writeFile(wal, bytes("other", 700 * KiB + 5));
    await utimes(wal, 1_600_000_000, 1_600_000_000);
    const tampered = await stageTree(new LocalTree(destination), repository.content, undefined, {
      fullPass: true,
      packing,
    });
    expect(firstTreeDifference(tree.entries, tampered.tree.entries)?.path).toBe("pg/wal");

    await restoreTree(new LocalTree(destination), new TreeContents(repository.content), tree, {
      full: false,
    });
    expect((await readFile(wal)).equals(await readFile(join(source, "pg/wal")))).toBe(false);
    await restoreTree(new LocalTree(destination), new TreeContents(repository.content), tree, { full: true });
    expect(await readFile(wal)).toEqual(await readFile(join(source, "pg/wal")));
  });

  it("keeps a tree's chunks from garbage collection", async () => {
    const { repository } = await openTestRepository();
    const source = await tempDirectory();
    await sampleTree(source);
    const { tree } = await stageTree(new LocalTree(source), repository.content, undefined, {
      fullPass: false,
      packing,
    });
    await repository.manifests.writeTreeManifest({
      version: 1,
      runId: "run-1",
      namespace: "shop",
      name: "data",
      createdAt: new Date().toISOString(),
      tree,
    });
    const { chunks } = await chunkReferences(repository);
    for (const id of treeChunkIds(tree.entries)) expect(chunks).toContain(id);
    expect((await repository.manifests.readTreeManifest("run-1", "shop", "data")).tree.sha256).toBe(
      tree.sha256,
    );
  });

  it("stages in slices that separate invocations can each do; garbage collection keeps the chunks of a half-staged tree", async () => {
    const { repository } = await openTestRepository();
    const source = await tempDirectory();
    await sampleTree(source);
    const whole = await stageTree(new LocalTree(source), repository.content, undefined, {
      fullPass: false,
      packing,
    });
    await writeFile(join(source, "pg/base/1/9"), bytes("changed", 5000));

    const fresh = await openTestRepository();
    const plan = await planTreeStage(new LocalTree(source), whole.tree, {
      fullPass: true,
      slice: { bytes: 100 * KiB, files: 10 },
    });
    expect(plan.slices.length).toBeGreaterThan(4);
    expect(plan.slices.every((files) => files.length <= 10)).toBe(true);
    const volume = { runId: "run-2", namespace: "shop", pvc: "data" };
    const plans = new ChunkBackedParts(fresh.repository.store, fresh.repository.content, treePlanParts);
    const slices = new ChunkBackedParts(fresh.repository.store, fresh.repository.content, treeSliceParts);
    await plans.write(volume, { version: 1, rangeIndex: 0, ...plan });
    // Only the first slice is staged, as if the run stopped there.
    const first = await stageTreeSlice(
      new LocalTree(source),
      fresh.repository.content,
      whole.tree,
      plan.slices[0] ?? [],
      packing,
    );
    await slices.write(volume, { version: 1, rangeIndex: 0, ...first });
    const { chunks } = await chunkReferences(fresh.repository);
    for (const entry of first.entries)
      for (const part of entry.parts ?? []) expect(chunks).toContain(part.chunk);

    const rest = [];
    for (const files of plan.slices.slice(1)) {
      rest.push(
        (await stageTreeSlice(new LocalTree(source), fresh.repository.content, whole.tree, files, packing))
          .entries,
      );
    }
    const tree = assembleTree(plan.known, [first.entries, ...rest]);
    const direct = await stageTree(new LocalTree(source), repository.content, undefined, {
      fullPass: false,
      packing,
    });
    expect(tree.sha256).toBe(direct.tree.sha256);
  });

  it("refuses a path with a newline, naming it", async () => {
    const { repository } = await openTestRepository();
    const source = await tempDirectory();
    await writeFile(join(source, "bad\nname"), "x");
    await expect(
      stageTree(new LocalTree(source), repository.content, undefined, { fullPass: false, packing }),
    ).rejects.toThrow(TreePathInvalid);
  });

  it("digests a tree independently of entry order, and a mode change changes it", () => {
    const entry = {
      path: "a",
      type: "file" as const,
      mode: 0o644,
      uid: 1,
      gid: 1,
      mtime: 5,
      size: 0,
      sha256: "0".repeat(64),
      parts: [],
    };
    const root = { path: ".", type: "directory" as const, mode: 0o755, uid: 0, gid: 0, mtime: 1, size: 0 };
    expect(treeDigest([entry, root])).toBe(treeDigest([root, entry]));
    expect(treeDigest([root, { ...entry, mode: 0o600 }])).not.toBe(treeDigest([root, entry]));
    // Directory mtimes are outside the digest: tar cannot keep them while writing inside.
    expect(treeDigest([{ ...root, mtime: 9 }, entry])).toBe(treeDigest([root, entry]));
  });
});
