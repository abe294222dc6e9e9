import { spawnSync } from "node:child_process";
import { closeSync, openSync, readSync } from "node:fs";
import { copyFile, mkdir, open, readdir, rm, stat, truncate, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";

// How the storage simulator keeps volumes on the host. Every volume is one sparse image file: the
// bytes a Block-mode consumer reads and writes. A Filesystem-mode volume is also offered to pods as
// a host folder (KUBEFERRY_MOUNT); since mounting an image needs privileges the tests do not have,
// the image of a Filesystem volume holds a tar archive of that folder, refreshed in whichever
// direction changed since the last sync (folder → image before a snapshot, image → folder before a
// pod mounts it). So a Filesystem snapshot read as a block device carries the folder's files.

export class VolumeFiles {
  constructor(readonly dir: string) {}

  imagePath(handle: string): string {
    return join(this.dir, `${handle}.img`);
  }

  mountPath(handle: string): string {
    return join(this.dir, `${handle}.mount`);
  }

  private syncStampPath(handle: string): string {
    return join(this.dir, `${handle}.synced`);
  }

  async createEmpty(handle: string, sizeBytes: number): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await writeFile(this.imagePath(handle), "");
    await truncate(this.imagePath(handle), sizeBytes);
  }

  /** A new volume holding the bytes of `fromHandle`, grown (never shrunk) to `sizeBytes`. */
  async createCopy(handle: string, fromHandle: string, sizeBytes: number): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await copyFile(this.imagePath(fromHandle), this.imagePath(handle));
    const { size } = await stat(this.imagePath(handle));
    if (size < sizeBytes) await truncate(this.imagePath(handle), sizeBytes);
  }

  async sizeOf(handle: string): Promise<number> {
    return (await stat(this.imagePath(handle))).size;
  }

  async exists(handle: string): Promise<boolean> {
    return stat(this.imagePath(handle)).then(
      () => true,
      () => false,
    );
  }

  async remove(handle: string): Promise<void> {
    for (const path of [this.imagePath(handle), this.mountPath(handle), this.syncStampPath(handle)]) {
      await rm(path, { recursive: true, force: true });
    }
  }

  /** Before a snapshot of a Filesystem volume: packs the folder into the image if the folder changed. */
  async packFolderIfChanged(handle: string): Promise<void> {
    const folder = this.mountPath(handle);
    const folderChanged = await newestMtime(folder);
    if (folderChanged === undefined || folderChanged <= (await this.lastSync(handle))) return;
    const { size } = await stat(this.imagePath(handle));
    const tar = spawnSync("tar", ["-cf", this.imagePath(handle), "-C", folder, "."], { encoding: "utf8" });
    if (tar.status !== 0) throw new Error(`tar of ${folder} failed: ${tar.stderr}`);
    const packed = (await stat(this.imagePath(handle))).size;
    if (packed > size) {
      throw new Error(
        `files in ${folder} (${packed} bytes as tar) exceed the volume size ${size}; use a bigger PVC`,
      );
    }
    await truncate(this.imagePath(handle), size);
    await this.markSynced(handle);
  }

  /** Before a pod mounts a Filesystem volume: unpacks the image into the folder if the image changed. */
  async unpackImageIfChanged(handle: string): Promise<string> {
    const folder = this.mountPath(handle);
    await mkdir(folder, { recursive: true });
    const imageChanged = (await stat(this.imagePath(handle))).mtimeMs;
    if (imageChanged <= (await this.lastSync(handle))) return folder;
    await rm(folder, { recursive: true, force: true });
    await mkdir(folder, { recursive: true });
    if (startsWithTarHeader(this.imagePath(handle))) {
      const tar = spawnSync("tar", ["-xf", this.imagePath(handle), "-C", folder], { encoding: "utf8" });
      if (tar.status !== 0) throw new Error(`untar of ${this.imagePath(handle)} failed: ${tar.stderr}`);
    }
    await this.markSynced(handle);
    return folder;
  }

  private async lastSync(handle: string): Promise<number> {
    return stat(this.syncStampPath(handle)).then(
      (stamp) => stamp.mtimeMs,
      () => 0,
    );
  }

  private async markSynced(handle: string): Promise<void> {
    const stamp = this.syncStampPath(handle);
    await (await open(stamp, "w")).close();
    // The stamp must not be older than the files it vouches for (mtime granularity).
    const now = new Date(Date.now() + 1);
    await utimes(stamp, now, now);
    await utimes(this.imagePath(handle), new Date(), new Date(Date.now() - 1));
  }
}

async function newestMtime(path: string): Promise<number | undefined> {
  const info = await stat(path).catch(() => undefined);
  if (!info) return undefined;
  let newest = info.mtimeMs;
  if (info.isDirectory()) {
    for (const entry of await readdir(path)) {
      newest = Math.max(newest, (await newestMtime(join(path, entry))) ?? 0);
    }
  }
  return newest;
}

/** A never-written volume is all zeros; only a ustar header means there is something to unpack. */
function startsWithTarHeader(imagePath: string): boolean {
  const header = Buffer.alloc(512);
  const fd = openSync(imagePath, "r");
  try {
    readSync(fd, header, 0, 512, 0);
  } finally {
    closeSync(fd);
  }
  return header.subarray(257, 262).toString("latin1") === "ustar";
}
