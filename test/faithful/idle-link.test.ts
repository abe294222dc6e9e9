import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CoreV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ExecFailed } from "../../functions/lib/errors.ts";
import { FilesystemBlobStore } from "../../functions/lib/repository/filesystem-blob-store.ts";
import { LocalKeyProvider } from "../../functions/lib/repository/local-key-provider.ts";
import { openRepository, type Repository } from "../../functions/lib/repository/repository.ts";
import { planChunkRanges } from "../../functions/lib/volumes/chunk-ranges.ts";
import {
  type ExecTarget,
  KubeExec,
  type KubeExecOptions,
  type PodExec,
} from "../../functions/lib/volumes/pod-exec.ts";
import { ChunkBackedParts, stagedParts } from "../../functions/lib/volumes/range-parts.ts";
import { stageRange } from "../../functions/lib/volumes/stage-range.ts";
import { type LocalClusters, startClusters, waitFor } from "../env/clusters.ts";
import { linkClusters } from "../env/linked-clusters.ts";
import { scaledMs } from "../env/time-scale.ts";

// A load balancer between the product and an API server cuts a connection that carries nothing
// either way for its idle timeout (60 s on-prem is common, an NLB's is 350 s). A silent exec dies
// with it, so helper scripts print progress while they work. Time runs at 1/20 unless
// KUBEFERRY_TIME_SCALE says otherwise: idle 60 s becomes 3 s, a 70 s silence 3.5 s, 50 s 2.5 s.
vi.stubEnv("KUBEFERRY_TIME_SCALE", process.env.KUBEFERRY_TIME_SCALE ?? "0.05");

const pod = { cluster: "destination", namespace: "default", pod: "silent", container: "main" };
let env: LocalClusters & { proxies: Record<string, { cuts: { idle: number } }> };
let exec: KubeExec;
let dir: string;

/** Runs `sleep` for `seconds` of modelled time through the link, printing nothing meanwhile. */
function silentFor(seconds: number) {
  const sleep = (scaledMs(seconds) / 1000).toFixed(3);
  return exec.runCommand(pod, ["sh", "-c", `sleep ${sleep}; echo done`], scaledMs(seconds) + 60_000);
}

/** Room for the silence itself at the current time scale, plus the exec's own round trips. */
function testTimeout(silentSeconds: number): number {
  return scaledMs(silentSeconds) + 30_000;
}

beforeAll(async () => {
  env = await linkClusters(await startClusters(["destination"]), {
    destination: { idleSeconds: 60, latencyMs: 0 },
  });
  const cluster = env.get("destination");
  await cluster
    .kubeConfig()
    .makeApiClient(CoreV1Api)
    .createNamespacedPod({
      namespace: pod.namespace,
      body: {
        metadata: { name: pod.pod },
        spec: {
          nodeName: cluster.nodeNames[0],
          automountServiceAccountToken: false,
          containers: [{ name: pod.container, image: "busybox" }],
        },
      },
    });
  exec = new KubeExec(cluster.kubeConfig());
  await waitFor("exec into the pod through the link", async () => {
    return (await exec.runCommand(pod, ["true"], 10_000)).exitCode === 0;
  });
});

afterAll(async () => {
  await env?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("a link with idle=60", () => {
  it(
    "cuts an exec silent for 70 s: it ends without an exit status",
    async () => {
      // Idle keep-alive connections of the API client are cut too, as a load balancer would.
      const cutsBefore = env.proxies.destination?.cuts.idle ?? 0;
      const outcome = await silentFor(70);
      expect(outcome.exitCode).toBeUndefined();
      expect(outcome.stdout).toBe("");
      expect(env.proxies.destination?.cuts.idle).toBeGreaterThan(cutsBefore);
    },
    testTimeout(70),
  );

  it(
    "lets an exec silent for 50 s finish",
    async () => {
      const outcome = await silentFor(50);
      expect(outcome).toMatchObject({ exitCode: 0, stdout: "done\n" });
    },
    testTimeout(50),
  );
});

// The exec runs on the host (KWOK), so a file stands in for the helper pod's device, and a sleep
// before each helper script for a device that stalls longer than the link's idle timeout.
describe("a range pass through a link with idle=60 over a device that stalls for 70 s per exec", () => {
  const chunkBytes = 64 * 1024;
  const volumeBytes = 6 * chunkBytes;
  const target: ExecTarget = { ...pod, volume: "a stalling test device" };
  let repository: Repository;
  let device: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "kf-idle-range-"));
    device = join(dir, "device.img");
    await writeFile(device, randomBytes(volumeBytes));
    repository = await openRepository({
      name: "idle",
      store: new FilesystemBlobStore(join(dir, "repo")),
      keyProvider: new LocalKeyProvider(join(dir, "key")),
    });
  });

  function stalling(options: KubeExecOptions): PodExec {
    const kubeExec = new KubeExec(env.get("destination").kubeConfig(), options);
    const stall = (scaledMs(70) / 1000).toFixed(3);
    return {
      run: (to, run) =>
        kubeExec.run(to, {
          ...run,
          script: `export KUBEFERRY_DEVICE='${device}'\nsleep ${stall}\n${run.script}`,
        }),
    };
  }

  function stage(runId: string, podExec: PodExec) {
    const range = planChunkRanges(volumeBytes, chunkBytes)[0];
    if (range === undefined) throw new Error("no range");
    return stageRange(
      {
        exec: podExec,
        chunks: repository.content,
        parts: new ChunkBackedParts(repository.store, repository.content, stagedParts),
      },
      { runId, namespace: "ns", pvc: "data", target, volumeBytes, chunkBytes, range },
    );
  }

  // Two execs (the hash pass and one read pass), each stalled 70 s.
  it(
    "finishes: the scripts' progress lines every 10 s keep the link busy",
    async () => {
      const staged = await stage("run-progress", stalling({ progressSeconds: scaledMs(10) / 1000 }));
      expect(staged).toMatchObject({ chunks: 6, holes: 0, newChunks: 6, streamedBytes: volumeBytes });
    },
    testTimeout(2 * 70),
  );

  it(
    "is cut without them (progress every 600 s)",
    async () => {
      const silent = stalling({
        progressSeconds: scaledMs(600) / 1000,
        retry: { attempts: 1, baseDelayMs: 0 },
      });
      await expect(stage("run-silent", silent)).rejects.toThrow(ExecFailed);
      await expect(stage("run-silent", silent)).rejects.toThrow(/the exec stream dropped 1 times/);
    },
    testTimeout(2 * 70),
  );
});
