import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { V1Pod } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ClusterClient,
  createClusterClient,
} from "../../../functions/lib/kube/client/cluster-client.ts";
import { createOrGet, getObject, paths } from "../../../functions/lib/volumes/kube-calls.ts";
import { type ExecTarget, KubeExec } from "../../../functions/lib/volumes/pod-exec.ts";
import { type LocalClusters, startClusters, waitFor } from "../../env/clusters.ts";
import { startV4ExecProxy, type V4ExecProxy } from "../../env/v4-exec-proxy.ts";

let clusters: LocalClusters;
let client: ClusterClient;
let dir: string;
const target: ExecTarget = {
  cluster: "source",
  namespace: "default",
  pod: "helper",
  container: "main",
  volume: "PVC default/data",
};

beforeAll(async () => {
  clusters = await startClusters(["source"], { storage: false });
  client = await createClusterClient(clusters.get("source").kubeConfig(), { name: "source" });
  dir = await mkdtemp(join(tmpdir(), "kf-exec-"));
  await createOrGet(client, paths.pods("default"), {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "helper", namespace: "default" },
    spec: { containers: [{ name: "main", image: "busybox" }] },
  });
  await waitFor("pod helper to run", async () => {
    const pod = await getObject<V1Pod>(client, paths.pod("default", "helper"));
    return pod?.status?.phase === "Running";
  });
});

afterAll(async () => {
  client?.close();
  await clusters?.stop();
  await rm(dir, { recursive: true, force: true });
});

const exec = (attempts = 3) =>
  new KubeExec(clusters.get("source").kubeConfig(), { retry: { attempts, baseDelayMs: 50 } });
const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: Error) => error,
  );

describe("the exec transport", () => {
  it("returns stdout and feeds exact stdin bytes", async () => {
    const data = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
    const out = await exec().run(target, {
      script: `dd iflag=fullblock,count_bytes bs=65536 count=${data.length} status=none | wc -c`,
      what: "stdin",
      stdin: data,
    });
    expect(out.toString().trim()).toBe(String(data.length));
  });

  it("turns a non-zero exit into ExecFailed naming cluster, pod, volume, byte range, status and stderr", async () => {
    const failure = await failureOf(
      exec().run(target, { script: "echo partial; echo 'dd: short read' >&2; exit 3", what: "bytes 0-4095" }),
    );
    expect(failure?.name).toBe("ExecFailed");
    expect(failure?.message).toContain("pod default/helper (cluster source, PVC default/data), bytes 0-4095");
    expect(failure?.message).toContain("exit status 3");
    expect(failure?.message).toContain("dd: short read");
  });

  it("treats output on stderr as a failure even with exit status 0", async () => {
    const failure = await failureOf(exec().run(target, { script: "echo oops >&2", what: "hash pass" }));
    expect(failure?.name).toBe("ExecFailed");
    expect(failure?.message).toContain("(exit status 0 but output on stderr): oops");
  });

  it("retries a stream that ends without an exit status, and gives up after the attempts", async () => {
    const marker = join(dir, "attempted");
    // The first attempt hangs past the timeout (its stream is cut); the second finds the marker.
    const script = `if [ -e ${marker} ]; then echo second; else touch ${marker}; sleep 10; fi`;
    expect((await exec().run(target, { script, what: "retry", timeoutMs: 4000 })).toString()).toBe(
      "second\n",
    );

    const failure = await failureOf(
      exec(2).run(target, { script: "sleep 5", what: "bytes 0-1", timeoutMs: 500 }),
    );
    expect(failure?.name).toBe("ExecFailed");
    expect(failure?.message).toContain("the exec stream dropped 2 times");
  });

  it("reports an application command's exit status and output without retrying it", async () => {
    const outcome = await exec().runCommand(target, ["sh", "-c", "echo out; echo err >&2; exit 4"], 10_000);
    expect(outcome).toEqual({ exitCode: 4, stdout: "out\n", stderr: "err\n" });
  });
});

describe("the exec transport through an API server front that speaks only v4.channel.k8s.io", () => {
  let proxy: V4ExecProxy;
  beforeAll(async () => {
    proxy = await startV4ExecProxy(clusters.get("source"));
  });
  afterAll(async () => {
    await proxy?.stop();
  });

  it("feeds exact stdin bytes and still gets the exit status (stdin is never ended: v4 has no half-close)", async () => {
    const data = Buffer.alloc(2 * 1024 * 1024 + 5, 3);
    const out = await new KubeExec(proxy.kubeConfig, { retry: { attempts: 1, baseDelayMs: 50 } }).run(
      target,
      {
        script: `dd iflag=fullblock,count_bytes bs=65536 count=${data.length} status=none | wc -c`,
        what: "stdin over v4",
        stdin: data,
      },
    );
    expect(out.toString().trim()).toBe(String(data.length));
    expect(proxy.offeredProtocols).toContain("v4.channel.k8s.io");
    expect(proxy.offeredProtocols).not.toContain("v5.channel.k8s.io");
  });

  it("reports a failing script's exit status over v4 too", async () => {
    const failure = await failureOf(
      new KubeExec(proxy.kubeConfig, { retry: { attempts: 1, baseDelayMs: 50 } }).run(target, {
        script: "exit 4",
        what: "exit over v4",
        stdin: Buffer.from("x"),
      }),
    );
    expect(failure?.name).toBe("ExecFailed");
    expect(failure?.message).toContain("exit status 4");
  });
});
