import { CoreV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { KubeExec } from "../../functions/lib/volumes/pod-exec.ts";
import { type LocalClusters, startClusters, waitFor } from "../env/clusters.ts";
import { linkClusters } from "../env/linked-clusters.ts";
import { scaledMs } from "../env/time-scale.ts";

// A load balancer between the product and an API server cuts a connection that carries nothing
// either way for its idle timeout (60 s on-prem is common, an NLB's is 350 s). A silent exec (a
// whole-volume digest prints only at the end) dies with it. Time runs at 1/20 unless
// KUBEFERRY_TIME_SCALE says otherwise: idle 60 s becomes 3 s, a 70 s silence 3.5 s, 50 s 2.5 s.
vi.stubEnv("KUBEFERRY_TIME_SCALE", process.env.KUBEFERRY_TIME_SCALE ?? "0.05");

const pod = { cluster: "destination", namespace: "default", pod: "silent", container: "main" };
let env: LocalClusters & { proxies: Record<string, { cuts: { idle: number } }> };
let exec: KubeExec;

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
