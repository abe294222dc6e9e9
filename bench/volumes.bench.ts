import { parseArgs } from "node:util";
import { readBytesScript } from "../functions/lib/volumes/helper-scripts.ts";
import type { ExecTarget } from "../functions/lib/volumes/pod-exec.ts";
import { cleanupBoth, restoreAll, snapshotAndStage } from "../test/integration/volumes/migrate.ts";
import {
  createNamespace,
  createVolume,
  openTestRepository,
  startVolumeEnv,
} from "../test/integration/volumes/volume-env.ts";
import { generateImage, imageSize, overwriteOnePercent } from "./image-file.ts";
import { MiB, mibPerSecond, progress, round, timed } from "./measure.ts";
import { measureS3Ceiling } from "./s3-ceiling.ts";

/**
 * The volume data path on the local clusters and MinIO: a 1 GiB Block volume (the foundation
 * bench's image) snapshotted, staged through the Kubernetes exec API into the repository in
 * MinIO's S3 (key wrapped by moto's KMS), restored into the destination cluster, then 1% of it
 * changed and the whole run repeated as a standby rerun. `--json` prints one JSON object on
 * stdout; progress goes to stderr. Two ceilings frame the figures: one exec stream reading 256 MiB
 * out of a pod, and MinIO's own PUT/GET rate for 4 MiB objects through the AWS SDK.
 */

const { values: options } = parseArgs({ options: { json: { type: "boolean", default: false } } });
const namespace = "bench";
const pvc = "data";

progress("starting the local clusters, MinIO and moto");
const env = await startVolumeEnv();
try {
  await createNamespace(env.source, namespace);
  await createNamespace(env.destination, namespace);
  const hostImage = await createVolume(env.source, namespace, pvc, imageSize, "Block");
  progress("writing the 1 GiB image");
  await generateImage(hostImage);
  const repository = await openTestRepository(env, "bench");

  progress("first run: stage");
  const first = { runId: "bench-first", namespace, pvcs: [pvc] };
  const stage = await timed(() => snapshotAndStage(env, repository, first));
  progress("first run: restore");
  const restore = await timed(() => restoreAll(env, repository, first, stage.result));
  const ceiling = await transportCeiling(stage.result.plans[0]?.target);
  await cleanupBoth(env, first.runId);
  progress("S3 ceiling: parallel PUTs and GETs of 4 MiB objects");
  const s3Ceiling = await measureS3Ceiling(env.s3, env.bucket);

  const changed = await overwriteOnePercent(hostImage);
  progress("rerun after 1% changed: stage");
  const rerun = { runId: "bench-rerun", namespace, pvcs: [pvc] };
  const rerunStage = await timed(() => snapshotAndStage(env, repository, rerun));
  progress("rerun: standby restore");
  const rerunRestore = await timed(() => restoreAll(env, repository, rerun, rerunStage.result));
  await cleanupBoth(env, rerun.runId);

  const result = {
    stage_mib_s: mibPerSecond(imageSize, stage.seconds),
    restore_mib_s: mibPerSecond(imageSize, restore.seconds),
    rerun_stage_s: round(rerunStage.seconds),
    rerun_uploaded_bytes: rerunStage.result.ranges.reduce((n, r) => n + r.storedBytes, 0),
    changed_bytes: changed.length,
    rerun_restore_s: round(rerunRestore.seconds),
    rerun_streamed_bytes: rerunStage.result.ranges.reduce((n, r) => n + r.streamedBytes, 0),
    exec_read_ceiling_mib_s: ceiling,
    s3_server: env.minio.server,
    s3_put_ceiling_mib_s: s3Ceiling.put_mib_s,
    s3_get_ceiling_mib_s: s3Ceiling.get_mib_s,
  };
  if (options.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else console.table(result);
} finally {
  await env.stop();
}

/** How fast one exec stream alone carries bytes out of a pod here: the transport's ceiling. */
async function transportCeiling(target: ExecTarget | undefined): Promise<number> {
  if (target === undefined) return Number.NaN;
  const bytes = 256 * MiB;
  const { seconds } = await timed(() =>
    env.source.exec.run(target, { script: readBytesScript(0, bytes), what: "transport ceiling" }),
  );
  return mibPerSecond(bytes, seconds);
}
