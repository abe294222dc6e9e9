import { randomBytes } from "node:crypto";
import { link, mkdir, readdir, readFile, rename, stat, unlink, writeFile } from "node:fs/promises";
import { dirname, join, sep } from "node:path";
import { assertValidKey, type BlobInfo, type BlobStore } from "./blob-store.ts";

const tempPrefix = ".tmp-";

/**
 * Objects as files under a root directory, key = relative path. Writers never expose a partial
 * file: data goes to a temporary file first, then is renamed (put) or hard-linked (putIfAbsent,
 * which fails with EEXIST when another writer got there first) into place.
 */
export class FilesystemBlobStore implements BlobStore {
  readonly location: string;

  constructor(private readonly root: string) {
    this.location = `file://${root}/`;
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    const temp = await this.writeTemp(key, data);
    await rename(temp, this.path(key));
  }

  async putIfAbsent(key: string, data: Uint8Array): Promise<boolean> {
    const temp = await this.writeTemp(key, data);
    try {
      await link(temp, this.path(key));
      return true;
    } catch (error) {
      if (errorCode(error) === "EEXIST") return false;
      throw error;
    } finally {
      await unlink(temp);
    }
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      return await readFile(this.path(key));
    } catch (error) {
      if (errorCode(error) === "ENOENT") return undefined;
      throw error;
    }
  }

  async head(key: string): Promise<BlobInfo | undefined> {
    try {
      const stats = await stat(this.path(key));
      return stats.isFile() ? { key, size: stats.size, lastModified: stats.mtime } : undefined;
    } catch (error) {
      if (errorCode(error) === "ENOENT") return undefined;
      throw error;
    }
  }

  async *list(prefix: string): AsyncIterable<BlobInfo> {
    // Only the directory holding the prefix's last segment can contain matches.
    const slash = prefix.lastIndexOf("/");
    const directoryKey = slash < 0 ? "" : prefix.slice(0, slash);
    const keys = (await this.filesUnder(directoryKey)).filter((key) => key.startsWith(prefix)).sort();
    for (const key of keys) {
      const info = await this.head(key);
      if (info !== undefined) yield info;
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await unlink(this.path(key));
    } catch (error) {
      if (errorCode(error) !== "ENOENT") throw error;
    }
  }

  private path(key: string): string {
    assertValidKey(key);
    return join(this.root, ...key.split("/"));
  }

  private async writeTemp(key: string, data: Uint8Array): Promise<string> {
    const directory = dirname(this.path(key));
    await mkdir(directory, { recursive: true });
    const temp = join(directory, `${tempPrefix}${randomBytes(8).toString("hex")}`);
    await writeFile(temp, data, { flush: true });
    return temp;
  }

  private async filesUnder(directoryKey: string): Promise<string[]> {
    const directory = directoryKey === "" ? this.root : this.path(directoryKey);
    let entries: string[];
    try {
      entries = await readdir(directory, { recursive: true });
    } catch (error) {
      if (errorCode(error) === "ENOENT" || errorCode(error) === "ENOTDIR") return [];
      throw error;
    }
    const files: string[] = [];
    for (const entry of entries) {
      const relative = entry.split(sep);
      if (relative.some((part) => part.startsWith(tempPrefix))) continue;
      const key = [...(directoryKey === "" ? [] : [directoryKey]), ...relative].join("/");
      files.push(key);
    }
    return files;
  }
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}
