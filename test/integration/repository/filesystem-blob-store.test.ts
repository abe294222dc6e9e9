import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FilesystemBlobStore } from "../../../functions/lib/repository/filesystem-blob-store.ts";
import { describeBlobStoreContract } from "./blob-store.contract.ts";

const roots: string[] = [];
async function freshRoot() {
  const root = await mkdtemp(join(tmpdir(), "kubeferry-blobs-"));
  roots.push(root);
  return root;
}
afterAll(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

describeBlobStoreContract("filesystem", async () => new FilesystemBlobStore(await freshRoot()));

describe("FilesystemBlobStore", () => {
  it("leaves no temporary files behind, whoever wins a putIfAbsent race", async () => {
    const root = await freshRoot();
    const store = new FilesystemBlobStore(root);
    await Promise.all([1, 2, 3, 4].map((n) => store.putIfAbsent("dir/key", Buffer.from(String(n)))));
    await store.put("dir/key", Buffer.from("replaced"));
    expect(await readdir(join(root, "dir"))).toEqual(["key"]);
  });
});
