import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { CreateKeyCommand } from "@aws-sdk/client-kms";
import { HttpResponse } from "@smithy/protocol-http";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createKmsClient, createS3Client } from "../../../functions/lib/aws/clients.ts";
import { chunkKey } from "../../../functions/lib/repository/content-store.ts";
import { ChunkCorrupt, LockHeld } from "../../../functions/lib/repository/errors.ts";
import { collectGarbage } from "../../../functions/lib/repository/garbage-collection.ts";
import { KmsKeyProvider } from "../../../functions/lib/repository/kms-key-provider.ts";
import { acquireLock, repositoryLockName } from "../../../functions/lib/repository/locks.ts";
import { openRepository, type Repository } from "../../../functions/lib/repository/repository.ts";
import { RetryingBlobStore } from "../../../functions/lib/repository/retrying-blob-store.ts";
import { S3BlobStore } from "../../../functions/lib/repository/s3-blob-store.ts";
import { repositoryOpener } from "../../../functions/lib/workflow/repository-location.ts";
import { type MinioServer, startMinio } from "../../env/minio.ts";
import { type MotoServer, startMoto } from "../../env/moto.ts";
import { readImage } from "../../repository-images/image-reader.ts";
import { writeImage } from "../../repository-images/image-writer.ts";

/** The whole stack as a Lambda would build it: S3 (MinIO) + retries + KMS-wrapped key (moto). */
let moto: MotoServer;
let minio: MinioServer;
let repository: Repository;
let store: S3BlobStore;
let tests = 0;

beforeAll(async () => {
  [moto, minio] = await Promise.all([startMoto(), startMinio()]);
});
afterAll(async () => {
  await Promise.all([moto?.stop(), minio?.stop()]);
});
beforeEach(async () => {
  await moto.reset();
  const kms = createKmsClient(moto);
  const keyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata?.KeyId ?? "";
  // A repository of its own per test: MinIO has no reset, and a prefix is all a repository is.
  store = new S3BlobStore({
    client: createS3Client(minio),
    bucket: minio.bucket,
    prefix: `kubeferry/pair-${++tests}/`,
  });
  const retrying = new RetryingBlobStore(store);
  repository = await openRepository({
    name: "pair-a",
    store: retrying,
    keyProvider: new KmsKeyProvider({ kms, keyId, repository: "pair-a", store: retrying }),
  });
});

describe("repository on S3 (MinIO)", () => {
  it("writes and reads back an image with holes and a short last chunk, twice without new chunks", async () => {
    const chunkSize = 256 * 1024;
    const data = Buffer.concat([randomBytes(chunkSize), Buffer.alloc(chunkSize), randomBytes(1000)]);
    const first = await writeImage(repository.content, [data], data.length, { chunkSize, concurrency: 3 });
    expect(first.stats).toMatchObject({ chunks: 3, holes: 1, newChunks: 2 });
    expect((await buffer(readImage(repository.content, first.manifest))).equals(data)).toBe(true);
    const second = await writeImage(repository.content, [data], data.length, { chunkSize });
    expect(second.stats.newChunks).toBe(0);
  });

  it("lets exactly one of two simultaneous writers of a chunk create it", async () => {
    const data = randomBytes(1024 * 1024);
    const results = await Promise.all([repository.content.putChunk(data), repository.content.putChunk(data)]);
    expect(results.map((result) => result.created).sort()).toEqual([false, true]);
  });

  it("reports a flipped byte and a truncated object as ChunkCorrupt naming the chunk", async () => {
    const { id } = await repository.content.putChunk(randomBytes(10_000));
    const object = (await store.get(chunkKey(id))) as Buffer;
    const flipped = Buffer.from(object);
    flipped[5000] = (flipped[5000] ?? 0) ^ 0x10;
    await store.put(chunkKey(id), flipped);
    await expect(repository.content.getChunk(id)).rejects.toThrow(ChunkCorrupt);
    await store.put(chunkKey(id), object.subarray(0, 9000));
    await expect(repository.content.getChunk(id)).rejects.toThrow(new RegExp(`chunk ${id} is corrupt`));
  });

  it("retries injected PutObject failures (503 SlowDown) on the production path, and the data reads back", async () => {
    const failures = 7;
    const s3 = createS3Client(minio);
    let failed = 0;
    let chunkPuts = 0;
    // After the SDK's own retries (3 attempts) give up, the repository's retrying store goes on.
    s3.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { method?: string; path?: string };
        if (request.method === "PUT" && request.path?.includes("/chunks/")) {
          chunkPuts++;
          if (failed < failures) {
            failed++;
            return {
              response: new HttpResponse({
                statusCode: 503,
                headers: { "content-type": "application/xml" },
                body: Readable.from([
                  "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>",
                ]),
              }),
              output: undefined as never,
            };
          }
        }
        return next(args);
      },
      { step: "deserialize", name: "injectSlowDown", priority: "low" },
    );
    const kms = createKmsClient(moto);
    const kmsKeyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata?.KeyId ?? "";
    const open = repositoryOpener({
      kind: "s3",
      s3,
      bucket: minio.bucket,
      prefix: `faults-${++tests}`,
      kms,
      kmsKeyId,
    });
    const faulty = await open("pair-faults");
    const data = randomBytes(100_000);
    const { id, created } = await faulty.content.putChunk(data);
    expect(created).toBe(true);
    expect(failed).toBe(failures);
    expect(chunkPuts).toBe(failures + 1);
    expect((await faulty.content.getChunk(id)).equals(data)).toBe(true);
  });

  it("keeps garbage collection out while a run holds the lock", async () => {
    await acquireLock(repository.store, repositoryLockName, { owner: "run-7", ttlMs: 60_000 });
    await expect(collectGarbage(repository, { owner: "gc" })).rejects.toThrow(LockHeld);
  });
});
