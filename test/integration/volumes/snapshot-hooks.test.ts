import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { V1Pod } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanupRun } from "../../../functions/lib/volumes/cleanup.ts";
import { createOrGet, getObject, paths } from "../../../functions/lib/volumes/kube-calls.ts";
import { snapshotNamespace } from "../../../functions/lib/volumes/snapshots.ts";
import { waitFor } from "../../env/clusters.ts";
import {
  clock,
  createNamespace,
  createVolume,
  startVolumeEnv,
  temporaryObjects,
  type VolumeEnv,
} from "./volume-env.ts";

const MiB = 1024 * 1024;
const namespace = "hooks";

let env: VolumeEnv;
let dir: string;

beforeAll(async () => {
  env = await startVolumeEnv();
  dir = await mkdtemp(join(tmpdir(), "kf-hooks-"));
  await createNamespace(env.source, namespace);
  await createVolume(env.source, namespace, "data", 16 * MiB, "Block");
  await createOrGet(env.source.client, paths.pods(namespace), {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "db-0", namespace, labels: { app: "db" } },
    spec: { containers: [{ name: "db", image: "busybox" }] },
  });
  await waitFor("pod db-0 to run", async () => {
    const pod = await getObject<V1Pod>(env.source.client, paths.pod(namespace, "db-0"));
    return pod?.status?.phase === "Running";
  });
});

afterAll(async () => {
  await env?.stop();
  await rm(dir, { recursive: true, force: true });
});

const deps = () => ({ client: env.source.client, exec: env.source.exec, clock });

describe("snapshots and hooks", () => {
  it("fails the run on a failing pre hook with pod, command and output, and still runs the post hook", async () => {
    const marker = join(dir, "thawed");
    const pre = {
      podSelector: "app=db",
      container: "db",
      command: ["sh", "-c", "echo freezing; echo disk busy >&2; exit 7"],
    };
    const post = { podSelector: "app=db", container: "db", command: ["sh", "-c", `echo thawed > ${marker}`] };
    const failure = await snapshotNamespace(deps(), {
      runId: "run-hook",
      namespace,
      pvcs: ["data"],
      snapshotClass: env.source.cluster.classes.snapshot,
      hooks: { pre: [pre], post: [post] },
    }).then(
      () => undefined,
      (error: Error) => error,
    );
    expect(failure?.name).toBe("ExecFailed");
    expect(failure?.message).toContain("pre hook in pod hooks/db-0 container db");
    expect(failure?.message).toContain(JSON.stringify(pre.command));
    expect(failure?.message).toContain("exited 7");
    expect(failure?.message).toContain("freezing");
    expect(failure?.message).toContain("disk busy");
    expect(await readFile(marker, "utf8")).toBe("thawed\n");
    await cleanupRun(deps(), "run-hook");
    expect(await temporaryObjects(env.source)).toEqual([]);
  });

  it("runs passing hooks around the snapshot and reports them", async () => {
    const result = await snapshotNamespace(deps(), {
      runId: "run-hooks-ok",
      namespace,
      pvcs: ["data"],
      snapshotClass: env.source.cluster.classes.snapshot,
      hooks: {
        pre: [{ podSelector: "app=db", container: "db", command: ["sh", "-c", "echo frozen"] }],
        post: [{ podSelector: "app=db", container: "db", command: ["sh", "-c", "echo thawed"] }],
      },
    });
    expect(result.hooks.map((h) => [h.phase, h.pod, h.succeeded, h.output])).toEqual([
      ["pre", "db-0", true, "frozen\n"],
      ["post", "db-0", true, "thawed\n"],
    ]);
    expect(result.volumes[0]?.volumeBytes).toBe(16 * MiB);
    await cleanupRun(deps(), "run-hooks-ok");
    expect(await temporaryObjects(env.source)).toEqual([]);
  });

  it("names a missing snapshot class", async () => {
    const failure = await snapshotNamespace(deps(), {
      runId: "run-no-class",
      namespace,
      pvcs: ["data"],
      snapshotClass: "no-such-class",
    }).then(
      () => undefined,
      (error: Error) => error,
    );
    expect(failure?.name).toBe("SnapshotClassMissing");
    expect(failure?.message).toContain("VolumeSnapshotClass no-such-class does not exist");
  });

  it("times out on a snapshot that is not ready in time, naming the PVC", async () => {
    // The -slow class's snapshots become ready minutes after the cut (as a first EBS snapshot).
    await createVolume(
      env.source,
      namespace,
      "slow-data",
      16 * MiB,
      "Block",
      {},
      env.source.cluster.classes.slow,
    );
    const failure = await snapshotNamespace(deps(), {
      runId: "run-never-ready",
      namespace,
      pvcs: ["slow-data"],
      snapshotClass: env.source.cluster.classes.snapshot,
      timeoutSeconds: 3,
    }).then(
      () => undefined,
      (error: Error) => error,
    );
    expect(failure?.name).toBe("SnapshotTimeout");
    expect(failure?.message).toContain("of PVC hooks/slow-data was not ready to use after 3s");
    await cleanupRun(deps(), "run-never-ready");
    expect(await temporaryObjects(env.source)).toEqual([]);
  });
});
