import { z } from "zod";
import type { BlobStore } from "./blob-store.ts";
import type { ChunkKeys } from "./chunk-crypto.ts";
import { type ContentCrypto, InlineContentCrypto } from "./content-crypto.ts";
import { ContentStore } from "./content-store.ts";
import { WrongRepositoryKey } from "./errors.ts";
import type { KeyProvider } from "./key-provider.ts";
import { ManifestStore } from "./manifests.ts";
import { deriveRepositoryKeys } from "./repository-keys.ts";

export interface Repository {
  readonly name: string;
  readonly store: BlobStore;
  readonly content: ContentStore;
  readonly manifests: ManifestStore;
}

export interface OpenRepositoryOptions {
  /** The repository's name (one per pair); also the KMS encryption context. */
  name: string;
  store: BlobStore;
  keyProvider: KeyProvider;
  /** Where hashing and encryption run: inline by default, WorkerContentCrypto for throughput. */
  crypto?: (keys: ChunkKeys) => ContentCrypto;
}

const inlineCrypto = (keys: ChunkKeys) => new InlineContentCrypto(keys);
const keyCheckKey = "keys/key-check.json";
const keyCheckSchema = z.object({ version: z.literal(1), keyCheck: z.string() });

/**
 * Opens (creating on first use) the repository in a store. A fingerprint of the key stored at
 * creation makes a wrong key fail here, by name, instead of as corrupt chunks later.
 */
export async function openRepository(options: OpenRepositoryOptions): Promise<Repository> {
  const { name, store, keyProvider } = options;
  const keys = deriveRepositoryKeys(await keyProvider.repositoryKey());
  const mine = Buffer.from(JSON.stringify({ version: 1, keyCheck: keys.keyCheck }));
  if (!(await store.putIfAbsent(keyCheckKey, mine))) {
    const stored = keyCheckSchema.safeParse(
      JSON.parse((await store.get(keyCheckKey))?.toString("utf8") ?? "{}"),
    );
    if (!stored.success) {
      throw new Error(`${store.location}${keyCheckKey} is damaged; restore it from a copy`);
    }
    if (stored.data.keyCheck !== keys.keyCheck) throw new WrongRepositoryKey(name, keyProvider.description);
  }
  return {
    name,
    store,
    content: new ContentStore(store, (options.crypto ?? inlineCrypto)(keys), name),
    manifests: new ManifestStore(store, keys, name),
  };
}
