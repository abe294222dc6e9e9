import { chmod, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LocalKeyProvider } from "../../../functions/lib/repository/local-key-provider.ts";
import { tempDirectory } from "./fixtures.ts";

describe("local key provider", () => {
  it("creates a 256-bit key once, readable only by its owner, and returns it every time", async () => {
    const keyFile = join(await tempDirectory(), "keys", "repository.key");
    const first = await new LocalKeyProvider(keyFile).repositoryKey();
    expect(first).toHaveLength(32);
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    expect(await new LocalKeyProvider(keyFile).repositoryKey()).toEqual(first);
  });

  it("gives simultaneous first users the same key", async () => {
    const keyFile = join(await tempDirectory(), "repository.key");
    const keys = await Promise.all([1, 2, 3, 4].map(() => new LocalKeyProvider(keyFile).repositoryKey()));
    for (const key of keys) expect(key).toEqual(keys[0]);
  });

  it("refuses a key file others can read, saying how to fix it", async () => {
    const keyFile = join(await tempDirectory(), "repository.key");
    await new LocalKeyProvider(keyFile).repositoryKey();
    await chmod(keyFile, 0o644);
    await expect(new LocalKeyProvider(keyFile).repositoryKey()).rejects.toThrow(`chmod 600 ${keyFile}`);
  });

  it("refuses a key file that does not hold a 256-bit key", async () => {
    const keyFile = join(await tempDirectory(), "repository.key");
    await writeFile(keyFile, "abcd", { mode: 0o600 });
    await expect(new LocalKeyProvider(keyFile).repositoryKey()).rejects.toThrow(/must hold 32 bytes/);
  });
});
