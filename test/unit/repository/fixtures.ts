import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { FilesystemBlobStore } from "../../../functions/lib/repository/filesystem-blob-store.ts";
import { LocalKeyProvider } from "../../../functions/lib/repository/local-key-provider.ts";
import { openRepository, type Repository } from "../../../functions/lib/repository/repository.ts";

const directories: string[] = [];

afterAll(async () => {
  for (const directory of directories.splice(0)) await rm(directory, { recursive: true, force: true });
});

/** A directory removed after the test file. */
export async function tempDirectory(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), "kubeferry-test-"));
  directories.push(directory);
  return directory;
}

export interface TestRepository {
  repository: Repository;
  root: string;
  keyFile: string;
}

/** A filesystem repository with its own local key. */
export async function openTestRepository(name = "test-pair"): Promise<TestRepository> {
  const directory = await tempDirectory();
  const root = join(directory, "repository");
  const keyFile = join(directory, "keys", "repository.key");
  const repository = await openRepository({
    name,
    store: new FilesystemBlobStore(root),
    keyProvider: new LocalKeyProvider(keyFile),
  });
  return { repository, root, keyFile };
}
