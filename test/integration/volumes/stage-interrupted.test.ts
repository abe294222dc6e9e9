import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commitVolume } from "../../../functions/lib/volumes/commit-volume.ts";
import { planVolume } from "../../../functions/lib/volumes/plan-volume.ts";
import { cleanupBoth, restoreAll, stagePlan } from "./migrate.ts";
import type { StageWorkerInput } from "./stage-worker.ts";
import {
  CountingChunks,
  clock,
  createNamespace,
  createVolume,
  imageOfClaim,
  openTestRepository,
  partsOf,
  patternedImage,
  readImage,
  readySnapshots,
  startVolumeEnv,
  temporaryObjects,
  type VolumeEnv,
  writeImage,
} from "./volume-env.ts";

const MiB = 1024 * 1024;
const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

let env: VolumeEnv;

beforeAll(async () => {
  env = await startVolumeEnv();
});

afterAll(async () => {
  await env?.stop();
});

describe("staging killed half-way", () => {
  it("completes when run again and re-uploads no chunk that was already stored", async () => {
    const namespace = "ledger";
    const runId = "run-killed";
    const size = 128 * MiB;
    const chunkBytes = 1 * MiB;
    await createNamespace(env.source, namespace);
    const image = patternedImage(size, chunkBytes);
    await writeImage(await createVolume(env.source, namespace, "journal", size, "Block"), image);
    const repository = await openTestRepository(env, "killed");
    const src = env.source;

    const volumes = await readySnapshots(src, { runId, namespace, pvcs: ["journal"] });
    const plan = await planVolume(
      { client: src.client, exec: src.exec, clock },
      { runId, source: volumes[0] as (typeof volumes)[0], chunkBytes, ranges: { rangeBytes: 32 * MiB } },
    );
    expect(plan.ranges).toHaveLength(4);

    // The worker process stages all ranges; it is killed once it has put 30 chunks.
    const workerInput: StageWorkerInput = {
      kubeconfigPath: src.cluster.kubeconfigPath,
      s3: env.minio,
      kms: env.moto,
      bucket: env.bucket,
      repository: "killed",
      kmsKeyId: env.kmsKeyId,
      runId,
      plan,
    };
    const worker = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        fileURLToPath(new URL("./stage-worker.ts", import.meta.url)),
        JSON.stringify(workerInput),
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    let puts = 0;
    let finished = false;
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      worker.on("exit", (_code, signal) => resolve(signal)),
    );
    for await (const line of createInterface({ input: worker.stdout })) {
      if (line === "done") finished = true;
      if (line.startsWith("put ") && ++puts === 30) worker.kill("SIGKILL");
    }
    expect(await exited).toBe("SIGKILL");
    expect(finished).toBe(false);

    const before = new Set<string>();
    for await (const chunk of repository.content.listChunks()) before.add(chunk.id);
    expect(before.size).toBeGreaterThanOrEqual(30);

    const chunks = new CountingChunks(repository.content);
    const outputs = await stagePlan(plan, repository, { runId, chunks }, src.exec);
    // Nothing already stored is put again, and everything put is new.
    expect(chunks.putIds.filter((id) => before.has(id))).toEqual([]);
    expect(chunks.created.sort()).toEqual(chunks.putIds.sort());
    expect(outputs.reduce((n, o) => n + o.streamedBytes, 0)).toBe(chunks.putIds.length * chunkBytes);

    await commitVolume(
      { parts: partsOf(repository), manifests: repository.manifests, clock },
      {
        runId,
        namespace,
        pvc: "journal",
        volumeBytes: size,
        chunkBytes,
        rangeCount: plan.ranges.length,
      },
    );
    await createNamespace(env.destination, namespace);
    await restoreAll(
      env,
      repository,
      { runId, namespace, pvcs: ["journal"] },
      { volumes, plans: [plan], ranges: outputs },
    );
    const restored = await readImage(await imageOfClaim(env.destination, namespace, "journal"), size);
    expect(sha(restored)).toBe(sha(image));

    await cleanupBoth(env, runId);
    expect(await temporaryObjects(env.source)).toEqual([]);
    expect(await temporaryObjects(env.destination)).toEqual([]);
  }, 600_000);
});
