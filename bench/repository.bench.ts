import { rm } from "node:fs/promises";
import { availableParallelism, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createS3Client } from "../functions/lib/aws/clients.ts";
import type { BlobStore } from "../functions/lib/repository/blob-store.ts";
import { FilesystemBlobStore } from "../functions/lib/repository/filesystem-blob-store.ts";
import type { ImageManifest } from "../functions/lib/repository/image-manifest.ts";
import { LocalKeyProvider } from "../functions/lib/repository/local-key-provider.ts";
import { openRepository, type Repository } from "../functions/lib/repository/repository.ts";
import { S3BlobStore } from "../functions/lib/repository/s3-blob-store.ts";
import { startMinio } from "../test/env/minio.ts";
import { fileImageSource } from "../test/repository-images/image-file-source.ts";
import { restoreImageToFile } from "../test/repository-images/image-reader.ts";
import { writeImage } from "../test/repository-images/image-writer.ts";
import { WorkerContentCrypto } from "../test/repository-images/worker-content-crypto.ts";
import { ddReadMiBPerSecond, opensslMiBPerSecond } from "./ceilings.ts";
import { generateImage, imageSize, overwriteOnePercent } from "./image-file.ts";
import {
  directoryBytes,
  flushDirtyPages,
  inWorkFolder,
  MiB,
  median,
  mibPerSecond,
  progress,
  round,
  timed,
} from "./measure.ts";
import { ensureRestic, ResticRepository } from "./restic.ts";
import { measureS3Ceiling } from "./s3-ceiling.ts";

/**
 * kubeferry's chunk repository against restic and against the machine's ceilings, on one
 * generated 1 GiB image, everything on local disk; then once into MinIO's S3, beside the PUT/GET
 * rate MinIO allows for 4 MiB objects measured in the same run. `--json` prints one JSON object
 * on stdout (progress goes to stderr); `--rounds N` sets how many times each full measurement runs.
 */

const { values: options } = parseArgs({
  options: { json: { type: "boolean", default: false }, rounds: { type: "string", default: "3" } },
});
// Chunks in flight per stream: enough to keep both cores busy while one chunk waits on I/O.
const concurrency = 8;
const rounds = Number(options.rounds);
let runs = 0;

async function benchmark(work: string) {
  const resticVersion = await ensureRestic();
  const image = join(work, "volume.img");
  progress(`generating a ${imageSize / MiB} MiB image in ${work}`);
  await generateImage(image);

  progress("measuring ceilings (openssl speed, dd)");
  const aesGcm = await opensslMiBPerSecond(["-evp", "aes-256-gcm"]);
  const sha256 = await opensslMiBPerSecond(["sha256"]);
  const diskRead = await ddReadMiBPerSecond(image, imageSize);

  // The machine is shared: each full stage/backup/restore runs `rounds` times, into fresh
  // repositories, and the median counts. Dirty pages are flushed before each measurement so one
  // tool does not pay for the previous one's writes.
  const seconds: Record<string, number[]> = {};
  const measure = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    await flushDirtyPages();
    progress(name);
    const { result, seconds: elapsed } = await timed(work);
    seconds[name] = [...(seconds[name] ?? []), elapsed];
    return result;
  };

  let last: Awaited<ReturnType<typeof fullRound>> | undefined;
  const fullRound = async (index: number) => {
    await rm(join(work, "repositories"), { recursive: true, force: true });
    const restic = new ResticRepository(join(work, "repositories", "restic"), join(work, "restic-cache"));
    await restic.init();
    const kubeferry = await kubeferryRepository(join(work, "repositories", "kubeferry-4m"));
    const small = await kubeferryRepository(join(work, "repositories", "kubeferry-1m"));
    const restored = join(work, "restored");
    progress(`round ${index} of ${rounds}`);

    // Each round starts with a different tool, so none always runs first (or last) on a busy machine.
    const rotate = <T>(steps: T[]) => [
      ...steps.slice(index % steps.length),
      ...steps.slice(0, index % steps.length),
    ];
    let staged: Awaited<ReturnType<typeof stageImage>> | undefined;
    let stagedSmall: Awaited<ReturnType<typeof stageImage>> | undefined;
    for (const step of rotate([
      async () => {
        staged = await measure("stage", () => stageImage(kubeferry.repository, image, 4 * MiB));
      },
      () => measure("restic backup", () => restic.backup(image)),
      async () => {
        stagedSmall = await measure("stage 1 MiB", () => stageImage(small.repository, image, MiB));
      },
    ])) {
      await step();
    }
    if (staged === undefined || stagedSmall === undefined) throw new Error("a stage did not run");
    const stagedManifest = staged.manifest;
    const stagedSmallManifest = stagedSmall.manifest;
    for (const step of rotate([
      () => measure("restore", () => restoreImage(kubeferry.repository, stagedManifest, restored)),
      () => measure("restic restore", () => restic.restore(restored)),
      () => measure("restore 1 MiB", () => restoreImage(small.repository, stagedSmallManifest, restored)),
    ])) {
      await step();
      await rm(restored, { recursive: true, force: true });
    }
    return { restic, kubeferry, small, staged, stagedSmall };
  };
  for (let index = 1; index <= rounds; index++) last = await fullRound(index);
  if (last === undefined) throw new Error("--rounds takes a number of at least 1");
  const { restic, kubeferry, small, staged, stagedSmall } = last;

  const region = await overwriteOnePercent(image);
  progress(`incremental: ${region.length} bytes overwritten at offset ${region.offset}`);
  const before = {
    kubeferry: await directoryBytes(kubeferry.root),
    small: await directoryBytes(small.root),
    restic: await directoryBytes(restic.path),
  };
  const incremental = await measure("incremental stage", () =>
    stageImage(kubeferry.repository, image, 4 * MiB),
  );
  const incrementalSmall = await measure("incremental stage 1 MiB", () =>
    stageImage(small.repository, image, MiB),
  );
  await measure("restic incremental backup", () => restic.backup(image));
  const speed = (name: string) => mibPerSecond(imageSize, median(seconds[name] ?? []));

  progress("starting MinIO for the S3 figures");
  const minio = await startMinio({ bucket: "bench" });
  let s3Ceiling: Awaited<ReturnType<typeof measureS3Ceiling>>;
  try {
    const s3 = createS3Client(minio);
    const s3Repository = await kubeferryRepository(
      join(work, "s3"),
      new S3BlobStore({ client: s3, bucket: minio.bucket, prefix: "kubeferry/bench/" }),
    );
    const s3Staged = await measure("S3 stage", () => stageImage(s3Repository.repository, image, 4 * MiB));
    await measure("S3 restore", () =>
      restoreImage(s3Repository.repository, s3Staged.manifest, join(work, "restored")),
    );
    progress("S3 ceiling: parallel PUTs and GETs of 4 MiB objects");
    s3Ceiling = await measureS3Ceiling(s3, minio.bucket);
  } finally {
    await minio.stop();
  }

  const results = {
    image_mib: imageSize / MiB,
    image_layout: "1/2 random, 1/4 zeros, 1/4 a repeated 64 KiB block, in 64 MiB stretches",
    chunk_size_mib: 4,
    concurrency,
    rounds,
    stage_mib_s: speed("stage"),
    restore_mib_s: speed("restore"),
    restic_backup_mib_s: speed("restic backup"),
    restic_restore_mib_s: speed("restic restore"),
    stored_bytes: before.kubeferry,
    restic_stored_bytes: before.restic,
    incr_new_bytes: (await directoryBytes(kubeferry.root)) - before.kubeferry,
    restic_incr_new_bytes: (await directoryBytes(restic.path)) - before.restic,
    incr_stage_mib_s: speed("incremental stage"),
    restic_incr_backup_mib_s: speed("restic incremental backup"),
    chunk_1mib: {
      stage_mib_s: speed("stage 1 MiB"),
      restore_mib_s: speed("restore 1 MiB"),
      stored_bytes: before.small,
      objects: stagedSmall.objects,
      incr_new_bytes: (await directoryBytes(small.root)) - before.small,
      incr_new_objects: incrementalSmall.newChunks,
    },
    objects: staged.objects,
    incr_new_objects: incremental.newChunks,
    s3: {
      server: minio.server,
      stage_mib_s: speed("S3 stage"),
      restore_mib_s: speed("S3 restore"),
      put_ceiling_mib_s: s3Ceiling.put_mib_s,
      get_ceiling_mib_s: s3Ceiling.get_mib_s,
      stage_vs_put_ceiling: round(speed("S3 stage") / s3Ceiling.put_mib_s),
      restore_vs_get_ceiling: round(speed("S3 restore") / s3Ceiling.get_mib_s),
    },
    aes_gcm_mib_s: aesGcm,
    sha256_mib_s: sha256,
    disk_read_mib_s: diskRead,
    node_version: process.version,
    restic_version: resticVersion,
    cpus: availableParallelism(),
    /** 1, 5 and 15 minute load averages at the end: the machine is shared, read the figures with them. */
    load_average: loadavg().map(round),
    seconds,
  };
  return {
    ...results,
    targets: {
      stage_vs_restic_backup: round(results.stage_mib_s / results.restic_backup_mib_s),
      restore_vs_restic_restore: round(results.restore_mib_s / results.restic_restore_mib_s),
      incr_new_bytes_vs_restic: round(results.incr_new_bytes / results.restic_incr_new_bytes),
      met:
        results.stage_mib_s >= 1.5 * results.restic_backup_mib_s &&
        results.restore_mib_s >= results.restic_restore_mib_s &&
        results.incr_new_bytes <= 1.5 * results.restic_incr_new_bytes,
    },
  };
}

/** A repository with a local key; its chunks on disk under `root` unless another store is given. */
async function kubeferryRepository(root: string, store: BlobStore = new FilesystemBlobStore(root)) {
  const repository = await openRepository({
    name: "bench",
    store,
    keyProvider: new LocalKeyProvider(`${root}.key`),
    crypto: (keys) => new WorkerContentCrypto(keys),
  });
  return { repository, root };
}

/** Stages the image as a run would: chunks, then the volume manifest that references them. */
async function stageImage(repository: Repository, image: string, chunkSize: number) {
  const runId = `run-${++runs}`;
  const { manifest, stats } = await writeImage(
    repository.content,
    fileImageSource(image, chunkSize),
    imageSize,
    { chunkSize, concurrency },
  );
  await repository.manifests.writeVolumeManifest({
    version: 1,
    runId,
    namespace: "bench",
    name: "volume",
    createdAt: new Date().toISOString(),
    image: manifest,
  });
  const objects = new Set(manifest.chunks.filter((id) => id !== null)).size;
  return { manifest, objects, newChunks: stats.newChunks };
}

async function restoreImage(repository: Repository, manifest: ImageManifest, target: string) {
  await restoreImageToFile(repository.content, manifest, target, { concurrency });
}

const results = await inWorkFolder(benchmark);
if (options.json) {
  process.stdout.write(`${JSON.stringify(results)}\n`);
} else {
  for (const [name, value] of Object.entries(results)) {
    process.stdout.write(`${name.padEnd(28)} ${typeof value === "object" ? JSON.stringify(value) : value}\n`);
  }
}
