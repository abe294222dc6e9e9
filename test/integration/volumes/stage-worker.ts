/**
 * Stages the ranges of a plan in a process of its own, printing "put <id> <created>" after each
 * chunk it puts, so a test can kill it mid-way (SIGKILL: the process aborted) and check what a
 * rerun does. Input: one JSON argument (see StageWorkerInput).
 */
import { KubeConfig } from "@kubernetes/client-node";
import { type AwsTarget, createKmsClient, createS3Client } from "../../../functions/lib/aws/clients.ts";
import { KmsKeyProvider } from "../../../functions/lib/repository/kms-key-provider.ts";
import { openRepository } from "../../../functions/lib/repository/repository.ts";
import { S3BlobStore } from "../../../functions/lib/repository/s3-blob-store.ts";
import type { VolumePlan } from "../../../functions/lib/volumes/plan-volume.ts";
import { KubeExec } from "../../../functions/lib/volumes/pod-exec.ts";
import { ChunkBackedParts, stagedParts } from "../../../functions/lib/volumes/range-parts.ts";
import { stageRange } from "../../../functions/lib/volumes/stage-range.ts";

export interface StageWorkerInput {
  kubeconfigPath: string;
  /** S3 (MinIO) and KMS (moto) are different servers with different credentials. */
  s3: AwsTarget;
  kms: AwsTarget;
  bucket: string;
  repository: string;
  kmsKeyId: string;
  runId: string;
  plan: VolumePlan;
}

const input = JSON.parse(process.argv[2] as string) as StageWorkerInput;
const kc = new KubeConfig();
kc.loadFromFile(input.kubeconfigPath);
const store = new S3BlobStore({
  client: createS3Client(input.s3),
  bucket: input.bucket,
  prefix: `kubeferry/${input.repository}/`,
});
const repository = await openRepository({
  name: input.repository,
  store,
  keyProvider: new KmsKeyProvider({
    kms: createKmsClient(input.kms),
    keyId: input.kmsKeyId,
    repository: input.repository,
    store,
  }),
});
const content = repository.content;
const chunks = {
  repository: content.repository,
  chunkIdForDigest: (digest: Uint8Array) => content.chunkIdForDigest(digest),
  reuseChunk: (id: string) => content.reuseChunk(id),
  getChunk: (id: string) => content.getChunk(id),
  putChunk: async (plaintext: Uint8Array) => {
    const stored = await content.putChunk(plaintext);
    process.stdout.write(`put ${stored.id} ${stored.created}\n`);
    return stored;
  },
};
const { plan } = input;
for (const range of plan.ranges) {
  await stageRange(
    { exec: new KubeExec(kc), chunks, parts: new ChunkBackedParts(store, content, stagedParts) },
    {
      runId: input.runId,
      namespace: plan.source.namespace,
      pvc: plan.source.pvc,
      target: plan.target,
      volumeBytes: plan.source.volumeBytes,
      chunkBytes: plan.chunkBytes,
      range,
    },
  );
}
process.stdout.write("done\n");
