import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { FilesystemBlobStore } from "../functions/lib/repository/filesystem-blob-store.ts";
import type { ImageManifest } from "../functions/lib/repository/image-manifest.ts";
import { readImage } from "../functions/lib/repository/image-reader.ts";
import { writeImage } from "../functions/lib/repository/image-writer.ts";
import { LocalKeyProvider } from "../functions/lib/repository/local-key-provider.ts";
import { openRepository, type Repository } from "../functions/lib/repository/repository.ts";
import { ddReadMiBPerSecond, opensslMiBPerSecond } from "./ceilings.ts";
import { generateImage, imageSize, overwriteOnePercent } from "./image-file.ts";
import { directoryBytes, MiB, mibPerSecond, progress, round, timed } from "./measure.ts";
import { ensureRestic, ResticRepository } from "./restic.ts";

/**
 * kubeferry's chunk repository against restic and against the machine's ceilings, on one
 * generated 1 GiB image, everything on local disk. `--json` prints one JSON object on stdout.
 */

const json = process.argv.includes("--json");
const concurrency = 4;
let runs = 0;

async function main() {
  const work = await mkdtemp(join(tmpdir(), "kubeferry-bench-"));
  try {
    return await benchmark(work);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function benchmark(work: string) {
  const resticVersion = await ensureRestic();
  const image = join(work, "volume.img");
  progress(`generating a ${imageSize / MiB} MiB image in ${work}`);
  await generateImage(image);

  progress("measuring ceilings (openssl speed, dd)");
  const aesGcm = await opensslMiBPerSecond(["-evp", "aes-256-gcm"]);
  const sha256 = await opensslMiBPerSecond(["sha256"]);
  const diskRead = await ddReadMiBPerSecond(image, imageSize);

  const restic = new ResticRepository(join(work, "restic"), join(work, "restic-cache"));
  await restic.init();
  const kubeferry = await kubeferryRepository(join(work, "kubeferry-4m"));
  const small = await kubeferryRepository(join(work, "kubeferry-1m"));

  progress("full stage: kubeferry (4 MiB chunks)");
  const stage = await stageImage(kubeferry.repository, image, 4 * MiB);
  progress("full backup: restic");
  const resticBackup = await timed(() => restic.backup(image));
  progress("full stage: kubeferry (1 MiB chunks)");
  const stageSmall = await stageImage(small.repository, image, MiB);

  progress("restore: kubeferry (4 MiB chunks)");
  const restore = await restoreImage(kubeferry.repository, stage.manifest, join(work, "restored-4m.img"));
  progress("restore: restic");
  const resticRestore = await timed(() => restic.restore(join(work, "restic-restored")));
  await rm(join(work, "restic-restored"), { recursive: true });
  progress("restore: kubeferry (1 MiB chunks)");
  const restoreSmall = await restoreImage(
    small.repository,
    stageSmall.manifest,
    join(work, "restored-1m.img"),
  );

  const region = await overwriteOnePercent(image);
  progress(`incremental: ${region.length} bytes overwritten at offset ${region.offset}`);
  const before = {
    kubeferry: await directoryBytes(kubeferry.root),
    small: await directoryBytes(small.root),
    restic: await directoryBytes(restic.path),
  };
  const incremental = await stageImage(kubeferry.repository, image, 4 * MiB);
  const incrementalSmall = await stageImage(small.repository, image, MiB);
  const resticIncremental = await timed(() => restic.backup(image));

  const results = {
    image_mib: imageSize / MiB,
    image_layout: "1/2 random, 1/4 zeros, 1/4 a repeated 64 KiB block, in 64 MiB stretches",
    chunk_size_mib: 4,
    concurrency,
    stage_mib_s: mibPerSecond(imageSize, stage.seconds),
    restore_mib_s: mibPerSecond(imageSize, restore.seconds),
    restic_backup_mib_s: mibPerSecond(imageSize, resticBackup.seconds),
    restic_restore_mib_s: mibPerSecond(imageSize, resticRestore.seconds),
    stored_bytes: before.kubeferry,
    restic_stored_bytes: before.restic,
    incr_new_bytes: (await directoryBytes(kubeferry.root)) - before.kubeferry,
    restic_incr_new_bytes: (await directoryBytes(restic.path)) - before.restic,
    incr_stage_mib_s: mibPerSecond(imageSize, incremental.seconds),
    restic_incr_backup_mib_s: mibPerSecond(imageSize, resticIncremental.seconds),
    chunk_1mib: {
      stage_mib_s: mibPerSecond(imageSize, stageSmall.seconds),
      restore_mib_s: mibPerSecond(imageSize, restoreSmall.seconds),
      stored_bytes: before.small,
      objects: stageSmall.objects,
      incr_new_bytes: (await directoryBytes(small.root)) - before.small,
      incr_new_objects: incrementalSmall.newChunks,
    },
    objects: stage.objects,
    incr_new_objects: incremental.newChunks,
    aes_gcm_mib_s: aesGcm,
    sha256_mib_s: sha256,
    disk_read_mib_s: diskRead,
    node_version: process.version,
    restic_version: resticVersion,
    cpus: (await import("node:os")).availableParallelism(),
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

async function kubeferryRepository(root: string) {
  const repository = await openRepository({
    name: "bench",
    store: new FilesystemBlobStore(root),
    keyProvider: new LocalKeyProvider(`${root}.key`),
  });
  return { repository, root };
}

/** Stages the image as a run would: chunks, then the volume manifest that references them. */
async function stageImage(repository: Repository, image: string, chunkSize: number) {
  const runId = `run-${++runs}`;
  const { result, seconds } = await timed(async () => {
    const written = await writeImage(
      repository.content,
      createReadStream(image, { highWaterMark: chunkSize }),
      imageSize,
      { chunkSize, concurrency },
    );
    await repository.manifests.writeVolumeManifest({
      version: 1,
      runId,
      namespace: "bench",
      name: "volume",
      createdAt: new Date().toISOString(),
      image: written.manifest,
    });
    return written;
  });
  const objects = new Set(result.manifest.chunks.filter((id) => id !== null)).size;
  return { manifest: result.manifest, seconds, objects, newChunks: result.stats.newChunks };
}

async function restoreImage(repository: Repository, manifest: ImageManifest, target: string) {
  const result = await timed(() =>
    pipeline(readImage(repository.content, manifest, { concurrency }), createWriteStream(target)),
  );
  await rm(target);
  return result;
}

const results = await main();
if (json) {
  process.stdout.write(`${JSON.stringify(results)}\n`);
} else {
  for (const [name, value] of Object.entries(results)) {
    process.stdout.write(`${name.padEnd(28)} ${typeof value === "object" ? JSON.stringify(value) : value}\n`);
  }
}
