import { join } from "node:path";
import type { KMSClient } from "@aws-sdk/client-kms";
import type { S3Client } from "@aws-sdk/client-s3";
import { PairStore } from "../kube/pairing/pairs.ts";
import type { BlobStore } from "../repository/blob-store.ts";
import { FilesystemBlobStore } from "../repository/filesystem-blob-store.ts";
import type { KeyProvider } from "../repository/key-provider.ts";
import { KmsKeyProvider } from "../repository/kms-key-provider.ts";
import { LocalKeyProvider } from "../repository/local-key-provider.ts";
import { openRepository, type Repository } from "../repository/repository.ts";
import { RetryingBlobStore } from "../repository/retrying-blob-store.ts";
import { S3BlobStore } from "../repository/s3-blob-store.ts";

/**
 * Where the pairs' repositories live: a bucket prefix with repository keys wrapped by a KMS
 * key (AWS), or a local directory with a key file per repository (the local default).
 */
export type RepositoryLocation =
  | {
      kind: "s3";
      s3: S3Client;
      bucket: string;
      prefix: string;
      kms: KMSClient;
      kmsKeyId: string;
      /** In Lambda: a client per repository, on a session that may use the key for that repository only. */
      repositoryKms?: (repository: string) => KMSClient;
    }
  | { kind: "filesystem"; root: string };

/** The store under which every pair has its repository, e.g. for listing pairs. */
export function rootStore(location: RepositoryLocation): BlobStore {
  return storeUnder(location, "");
}

/**
 * Opens pairs' repositories; each is opened once per process, as unwrapping its key costs a KMS
 * call. A pair's repository is named after it unless its record names another (a reversed pair
 * shares its origin's, so its runs reuse the chunks already there, under the same key).
 */
export function repositoryOpener(location: RepositoryLocation): (pair: string) => Promise<Repository> {
  const opened = new Map<string, Promise<Repository>>();
  const pairs = new PairStore(rootStore(location));
  return (pair) => {
    let repository = opened.get(pair);
    if (repository === undefined) {
      repository = pairs.get(pair).then((record) => {
        const name = record?.repository ?? pair;
        const store = storeUnder(location, name);
        return openRepository({ name, store, keyProvider: keyProvider(location, name, store) });
      });
      // A failure (KMS down, wrong key) must not be cached for the next invocation.
      repository.catch(() => opened.delete(pair));
      opened.set(pair, repository);
    }
    return repository;
  };
}

/**
 * The bucket key of a key of a repository, as a Map's ItemReader names it (Parameters
 * Bucket and Key); for a local directory, the path under its root.
 */
export function repositoryObjectKey(location: RepositoryLocation, repository: string, key: string): string {
  const prefix = location.kind === "filesystem" ? "repositories" : location.prefix;
  return [prefix, repository, key].filter((part) => part !== "").join("/");
}

/** A local directory stands for a bucket of this name in a local run's definition. */
const localBucketName = "kubeferry-local";

/** The bucket the repositories are in and a store at its root, which `repositoryObjectKey` keys address. */
export function bucketStore(location: RepositoryLocation): { bucket: string; store: BlobStore } {
  if (location.kind === "filesystem") {
    return { bucket: localBucketName, store: new FilesystemBlobStore(location.root) };
  }
  return {
    bucket: location.bucket,
    store: new RetryingBlobStore(new S3BlobStore({ client: location.s3, bucket: location.bucket })),
  };
}

function storeUnder(location: RepositoryLocation, repository: string): BlobStore {
  if (location.kind === "filesystem")
    return new FilesystemBlobStore(join(location.root, "repositories", repository));
  const prefix = [location.prefix, repository].filter((part) => part !== "").join("/");
  return new RetryingBlobStore(
    new S3BlobStore({ client: location.s3, bucket: location.bucket, prefix: `${prefix}/` }),
  );
}

function keyProvider(location: RepositoryLocation, repository: string, store: BlobStore): KeyProvider {
  if (location.kind === "filesystem")
    return new LocalKeyProvider(join(location.root, "keys", `${repository}.key`));
  const kms = location.repositoryKms?.(repository) ?? location.kms;
  return new KmsKeyProvider({ kms, keyId: location.kmsKeyId, repository, store });
}
