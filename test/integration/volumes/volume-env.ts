import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { CreateKeyCommand } from "@aws-sdk/client-kms";
import type { S3Client } from "@aws-sdk/client-s3";
import type { V1PersistentVolume, V1PersistentVolumeClaim } from "@kubernetes/client-node";
import { createKmsClient, createS3Client } from "../../../functions/lib/aws/clients.ts";
import {
  type ClusterClient,
  createClusterClient,
} from "../../../functions/lib/kube/client/cluster-client.ts";
import { KmsKeyProvider } from "../../../functions/lib/repository/kms-key-provider.ts";
import { openRepository, type Repository } from "../../../functions/lib/repository/repository.ts";
import { S3BlobStore } from "../../../functions/lib/repository/s3-blob-store.ts";
import type { ChunkRepository } from "../../../functions/lib/volumes/chunk-repository.ts";
import {
  createOrGet,
  getObject,
  listObjects,
  paths,
  systemClock,
} from "../../../functions/lib/volumes/kube-calls.ts";
import { TEMPORARY_LABEL } from "../../../functions/lib/volumes/names.ts";
import {
  type ExecTarget,
  KubeExec,
  type PodExec,
  type ScriptRun,
} from "../../../functions/lib/volumes/pod-exec.ts";
import {
  ChunkBackedParts,
  type RangePartStore,
  type RestoredPartStore,
  restoredParts,
  stagedParts,
} from "../../../functions/lib/volumes/range-parts.ts";
import {
  cutSnapshots,
  type SourceVolume,
  snapshotReadiness,
} from "../../../functions/lib/volumes/snapshots.ts";
import { type LocalCluster, type LocalClusters, startClusters, waitFor } from "../../env/clusters.ts";
import { type LinkOptions, type LinkProxy, startLinkProxy, targetOf } from "../../env/link-proxy.ts";
import { linkClusters } from "../../env/linked-clusters.ts";
import { type MinioServer, startMinio } from "../../env/minio.ts";
import { type MotoServer, startMoto } from "../../env/moto.ts";

/** One side of the migration: its local cluster, API client and exec transport. */
export interface Side {
  cluster: LocalCluster;
  client: ClusterClient;
  exec: KubeExec;
}

export interface VolumeEnv {
  /** The clusters as the product reaches them: the destination through its link, when there is one. */
  clusters: LocalClusters;
  /** KMS (and the other AWS services but S3). */
  moto: MotoServer;
  /** S3: the staging bucket lives here. */
  minio: MinioServer;
  source: Side;
  destination: Side;
  /** A client of MinIO, through the S3 link when there is one. */
  s3: S3Client;
  bucket: string;
  kmsKeyId: string;
  /** The proxies in front of the destination API server and of S3, when asked for. */
  links: { destination?: LinkProxy; s3?: LinkProxy };
  stop(): Promise<void>;
}

export interface VolumeEnvOptions {
  /** Put a link like a WAN's in front of the destination cluster's API server and/or of S3. */
  link?: { destination?: LinkOptions; s3?: LinkOptions };
}

export async function startVolumeEnv(options: VolumeEnvOptions = {}): Promise<VolumeEnv> {
  const [direct, moto, minio] = await Promise.all([
    startClusters(["source", "destination"]),
    startMoto(),
    startMinio({ bucket: "kubeferry-volumes-test" }),
  ]);
  const clusters = await linkClusters(
    direct,
    options.link?.destination ? { destination: options.link.destination } : {},
  );
  const s3Link = options.link?.s3 && (await startLinkProxy(targetOf(minio.endpoint), options.link.s3));
  const side = async (name: string): Promise<Side> => {
    const cluster = clusters.get(name);
    const kc = cluster.kubeConfig();
    return {
      cluster,
      client: await createClusterClient(kc, { name }),
      exec: new KubeExec(kc),
    };
  };
  const s3 = createS3Client({
    ...minio,
    endpoint: s3Link ? `http://${s3Link.host}:${s3Link.port}` : minio.endpoint,
  });
  const kms = createKmsClient(moto);
  const key = await kms.send(new CreateKeyCommand({}));
  const [source, destination] = await Promise.all([side("source"), side("destination")]);
  return {
    clusters,
    moto,
    minio,
    source,
    destination,
    s3,
    bucket: minio.bucket,
    kmsKeyId: key.KeyMetadata?.KeyId as string,
    links: { destination: clusters.proxies.destination, s3: s3Link },
    async stop() {
      source.client.close();
      destination.client.close();
      await s3Link?.stop();
      await Promise.all([clusters.stop(), moto.stop(), minio.stop()]);
    },
  };
}

/** The pair's repository in MinIO's S3, key wrapped by moto's KMS (as a Lambda opens it). */
export async function openTestRepository(env: VolumeEnv, name: string): Promise<Repository> {
  const store = new S3BlobStore({ client: env.s3, bucket: env.bucket, prefix: `kubeferry/${name}/` });
  const kms = createKmsClient(env.moto);
  return openRepository({
    name,
    store,
    keyProvider: new KmsKeyProvider({ kms, keyId: env.kmsKeyId, repository: name, store }),
  });
}

export function partsOf(repository: Repository): RangePartStore {
  return new ChunkBackedParts(repository.store, repository.content, stagedParts);
}

export function restoredPartsOf(repository: Repository): RestoredPartStore {
  return new ChunkBackedParts(repository.store, repository.content, restoredParts);
}

/** Wraps the repository's chunks to record which ids each call put and whether it created them. */
export class CountingChunks implements ChunkRepository {
  readonly created: string[] = [];
  readonly putIds: string[] = [];
  readonly repository: string;

  constructor(private readonly inner: ChunkRepository) {
    this.repository = inner.repository;
  }

  chunkIdForDigest(digest: Uint8Array) {
    return this.inner.chunkIdForDigest(digest);
  }

  reuseChunk(id: string) {
    return this.inner.reuseChunk(id);
  }

  async putChunk(plaintext: Uint8Array) {
    const stored = await this.inner.putChunk(plaintext);
    this.putIds.push(stored.id);
    if (stored.created) this.created.push(stored.id);
    return stored;
  }

  getChunk(id: string) {
    return this.inner.getChunk(id);
  }
}

/** Wraps an exec transport to count what crosses it. */
export class CountingExec implements PodExec {
  stdoutBytes = 0;
  stdinBytes = 0;
  runs: string[] = [];

  constructor(private readonly inner: PodExec) {}

  async run(target: ExecTarget, run: ScriptRun): Promise<Buffer> {
    const out = await this.inner.run(target, run);
    this.stdoutBytes += out.length;
    this.stdinBytes += run.stdin?.length ?? 0;
    this.runs.push(run.what);
    return out;
  }
}

export async function createNamespace(side: Side, namespace: string): Promise<void> {
  await createOrGet(side.client, "/api/v1/namespaces", {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: namespace },
  });
}

/** A bound PVC of the test CSI driver (block mode); returns the host image file holding its bytes. */
export async function createVolume(
  side: Side,
  namespace: string,
  name: string,
  bytes: number,
  volumeMode: "Block" | "Filesystem",
  labels: Record<string, string> = {},
  storageClassName = side.cluster.classes.fast,
): Promise<string> {
  await createOrGet(side.client, paths.pvcs(namespace), {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name, namespace, labels },
    spec: {
      accessModes: ["ReadWriteOnce"],
      volumeMode,
      storageClassName,
      resources: { requests: { storage: String(bytes) } },
    },
  });
  return imageOfClaim(side, namespace, name);
}

/** Host file behind a bound PVC (waits for the binding). */
export async function imageOfClaim(side: Side, namespace: string, name: string): Promise<string> {
  let volumeName = "";
  await waitFor(`PVC ${namespace}/${name} to bind`, async () => {
    const claim = await getObject<V1PersistentVolumeClaim>(side.client, paths.pvc(namespace, name));
    volumeName = claim?.status?.phase === "Bound" ? (claim.spec?.volumeName ?? "") : "";
    return volumeName !== "";
  });
  const pv = await getObject<V1PersistentVolume>(side.client, paths.pv(volumeName));
  return side.cluster.volumeImagePath(pv?.spec?.csi?.volumeHandle as string);
}

/**
 * A volume image with random, all-zero and repeated regions, chunk-aligned and not: the kinds
 * of content that exercise holes, dedup and plain data.
 */
export function patternedImage(bytes: number, chunkBytes: number): Buffer {
  const image = Buffer.alloc(bytes);
  const chunks = Math.ceil(bytes / chunkBytes);
  for (let i = 0; i < chunks; i++) {
    const offset = i * chunkBytes;
    const length = Math.min(chunkBytes, bytes - offset);
    const kind = i % 8;
    if (kind === 0 || kind === 3 || kind === 5) randomBytes(length).copy(image, offset);
    else if (kind === 1)
      image.copy(image, offset, 0, length); // repeats chunk 0
    else if (kind === 6) randomBytes(length >> 1).copy(image, offset + (length >> 2)); // data amid zeros
    // kinds 2, 4, 7: all zeros
  }
  return image;
}

export async function writeImage(path: string, image: Buffer): Promise<void> {
  await writeFile(path, image);
}

export async function readImage(path: string, bytes?: number): Promise<Buffer> {
  const data = await readFile(path);
  return bytes === undefined ? data : data.subarray(0, bytes);
}

/** Every temporary kubeferry object in a cluster, of any run: what must be empty after cleanup. */
export async function temporaryObjects(side: Side): Promise<string[]> {
  const selector = `${TEMPORARY_LABEL}=true`;
  type Named = { metadata?: { name?: string; namespace?: string } };
  const named = (kind: string) => (o: Named) => `${kind} ${o.metadata?.namespace ?? ""}/${o.metadata?.name}`;
  const pvs = await listObjects<V1PersistentVolume>(side.client, paths.pvs());
  const contents = await listObjects<{
    metadata?: { name?: string };
    spec?: { volumeSnapshotRef?: { name?: string } };
  }>(side.client, "/apis/snapshot.storage.k8s.io/v1/volumesnapshotcontents");
  return [
    ...(await listObjects<Named>(side.client, paths.allPods(), selector)).map(named("pod")),
    ...(await listObjects<Named>(side.client, paths.allPvcs(), selector)).map(named("PVC")),
    ...(await listObjects<Named>(side.client, paths.allSnapshots(), selector)).map(named("VolumeSnapshot")),
    ...pvs
      .filter(
        (pv) =>
          pv.metadata?.labels?.[TEMPORARY_LABEL] === "true" || pv.spec?.claimRef?.name?.startsWith("kf-"),
      )
      .map(named("PV")),
    ...contents
      .filter((c) => c.spec?.volumeSnapshotRef?.name?.startsWith("kf-"))
      .map(named("VolumeSnapshotContent")),
  ];
}

export const clock = systemClock;

/**
 * The snapshots of a run's PVCs, cut and then waited for as the workflow does it (SnapshotVolumes,
 * then CheckSnapshots until every one is ready), without the state machine between the looks.
 */
export async function readySnapshots(
  side: Side,
  input: { runId: string; namespace: string; pvcs: string[] },
  timeoutMs = 120_000,
): Promise<SourceVolume[]> {
  const cuts = await cutSnapshots(
    { client: side.client, clock },
    { ...input, snapshotClass: side.cluster.classes.snapshot },
  );
  let volumes: SourceVolume[] = [];
  await waitFor(
    `snapshots of ${input.namespace}/${input.pvcs.join(",")} ready to use`,
    async () => {
      const { ready, pending } = await snapshotReadiness(side.client, cuts);
      volumes = ready;
      return pending.length === 0;
    },
    timeoutMs,
  );
  return volumes;
}
