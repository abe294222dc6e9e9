import type { V1Pod } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanupRun } from "../../../functions/lib/volumes/cleanup.ts";
import { runHooks } from "../../../functions/lib/volumes/hooks.ts";
import { createOrGet, getObject, paths } from "../../../functions/lib/volumes/kube-calls.ts";
import { cutSnapshots, snapshotReadiness } from "../../../functions/lib/volumes/snapshots.ts";
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

beforeAll(async () => {
  env = await startVolumeEnv();
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
});

describe("hooks and snapshots in the source's pods", () => {
  it("a failing hook fails naming pod, container, command, exit status and output", async () => {
    const pre = {
      podSelector: "app=db",
      container: "db",
      command: ["sh", "-c", "echo freezing; echo disk busy >&2; exit 7"],
    };
    const failure = await runHooks(env.source.client, env.source.exec, namespace, "pre", [pre]).then(
      () => undefined,
      (error: Error) => error,
    );
    expect(failure?.name).toBe("ExecFailed");
    expect(failure?.message).toContain("pre hook in pod hooks/db-0 container db");
    expect(failure?.message).toContain(JSON.stringify(pre.command));
    expect(failure?.message).toContain("exited 7");
    expect(failure?.message).toContain("freezing");
    expect(failure?.message).toContain("disk busy");
  });

  it("runs passing hooks and reports each with its output", async () => {
    const hook = (echo: string) => ({
      podSelector: "app=db",
      container: "db",
      command: ["sh", "-c", `echo ${echo}`],
    });
    const outcomes = [
      ...(await runHooks(env.source.client, env.source.exec, namespace, "pre", [hook("frozen")])),
      ...(await runHooks(env.source.client, env.source.exec, namespace, "post", [hook("thawed")])),
    ];
    expect(outcomes.map((h) => [h.phase, h.pod, h.succeeded, h.output])).toEqual([
      ["pre", "db-0", true, "frozen\n"],
      ["post", "db-0", true, "thawed\n"],
    ]);
  });

  it("names a missing snapshot class", async () => {
    const failure = await cutSnapshots(
      { client: env.source.client, clock },
      { runId: "run-no-class", namespace, pvcs: ["data"], snapshotClass: "no-such-class" },
    ).then(
      () => undefined,
      (error: Error) => error,
    );
    expect(failure?.name).toBe("SnapshotClassMissing");
    expect(failure?.message).toContain("VolumeSnapshotClass no-such-class does not exist");
  });

  it("reports a cut snapshot that is not ready yet as pending, naming its PVC", async () => {
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
    const cuts = await cutSnapshots(
      { client: env.source.client, clock },
      {
        runId: "run-not-ready",
        namespace,
        pvcs: ["slow-data"],
        snapshotClass: env.source.cluster.classes.snapshot,
      },
    );
    const { ready, pending } = await snapshotReadiness(env.source.client, cuts);
    expect(ready).toEqual([]);
    expect(pending).toEqual([expect.objectContaining({ namespace, pvc: "slow-data" })]);
    await cleanupRun({ client: env.source.client, clock }, "run-not-ready");
    expect(await temporaryObjects(env.source)).toEqual([]);
  });
});
