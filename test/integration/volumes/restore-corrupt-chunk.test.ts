import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import type { V1PersistentVolumeClaim } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chunkKey } from "../../../functions/lib/repository/content-store.ts";
import { getObject, paths } from "../../../functions/lib/volumes/kube-calls.ts";
import { cleanupBoth, restoreAll, snapshotAndStage } from "./migrate.ts";
import {
  createNamespace,
  createVolume,
  openTestRepository,
  patternedImage,
  startVolumeEnv,
  temporaryObjects,
  type VolumeEnv,
  writeImage,
} from "./volume-env.ts";

const MiB = 1024 * 1024;

let env: VolumeEnv;

beforeAll(async () => {
  env = await startVolumeEnv();
});

afterAll(async () => {
  await env?.stop();
});

describe("a chunk corrupted in the repository", () => {
  it("fails the restore with ChunkCorrupt naming chunk and volume, leaves no final PVC and no temporary object", async () => {
    const namespace = "billing";
    const runId = "run-corrupt";
    const size = 64 * MiB;
    const chunkBytes = 1 * MiB;
    await createNamespace(env.source, namespace);
    await writeImage(
      await createVolume(env.source, namespace, "invoices", size, "Block"),
      patternedImage(size, chunkBytes),
    );
    const repository = await openTestRepository(env, "corrupt");
    const options = { runId, namespace, pvcs: ["invoices"], chunkBytes };
    const staged = await snapshotAndStage(env, repository, options);

    const manifest = await repository.manifests.readVolumeManifest(runId, namespace, "invoices");
    const index = 11; // kind 3 in patternedImage: random data, stored once
    const id = manifest.image.chunks[index] as string;
    const key = `kubeferry/corrupt/${chunkKey(id)}`;
    const stored = await env.s3.send(new GetObjectCommand({ Bucket: env.bucket, Key: key }));
    const sealed = Buffer.from(
      await (stored.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
    );
    sealed.writeUInt8((sealed.readUInt8(sealed.length >> 1) ^ 0x01) & 0xff, sealed.length >> 1);
    await env.s3.send(new PutObjectCommand({ Bucket: env.bucket, Key: key, Body: sealed }));

    await createNamespace(env.destination, namespace);
    const failure = await restoreAll(env, repository, options, staged).then(
      () => undefined,
      (error: Error) => error,
    );
    expect(failure?.name).toBe("ChunkCorrupt");
    expect(failure?.message).toContain(id);
    expect(failure?.message).toContain(
      `chunk ${index} (bytes ${index * chunkBytes}-${(index + 1) * chunkBytes - 1})`,
    );
    expect(failure?.message).toContain(`${namespace}/invoices`);
    expect(
      await getObject<V1PersistentVolumeClaim>(env.destination.client, paths.pvc(namespace, "invoices")),
    ).toBeUndefined();

    await cleanupBoth(env, runId);
    expect(await temporaryObjects(env.source)).toEqual([]);
    expect(await temporaryObjects(env.destination)).toEqual([]);
  }, 600_000);
});
