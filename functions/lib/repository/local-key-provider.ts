import { randomBytes } from "node:crypto";
import { link, mkdir, readFile, stat, unlink, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { type KeyProvider, repositoryKeyLength } from "./key-provider.ts";

/**
 * The repository key in a local file (the filesystem default, no KMS): created once with mode
 * 0600, refused when anyone but the owner can read it.
 */
export class LocalKeyProvider implements KeyProvider {
  readonly description: string;

  constructor(private readonly keyFile: string) {
    this.description = `key file ${keyFile}`;
  }

  async repositoryKey(): Promise<Buffer> {
    await mkdir(dirname(this.keyFile), { recursive: true, mode: 0o700 });
    // Written aside and linked into place: of two first users, one creates the whole file and
    // the other reads it, never a half-written one.
    const temp = `${this.keyFile}.${randomBytes(8).toString("hex")}.tmp`;
    await writeFile(temp, randomBytes(repositoryKeyLength).toString("hex"), { mode: 0o600, flush: true });
    try {
      await link(temp, this.keyFile);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    } finally {
      await unlink(temp);
    }
    const mode = (await stat(this.keyFile)).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new Error(
        `${this.description} has mode ${mode.toString(8)}; run chmod 600 ${this.keyFile} (only its owner may read it)`,
      );
    }
    const key = Buffer.from((await readFile(this.keyFile, "utf8")).trim(), "hex");
    if (key.length !== repositoryKeyLength) {
      throw new Error(
        `${this.description} must hold ${repositoryKeyLength} bytes as hex; it holds ${key.length}`,
      );
    }
    return key;
  }
}
