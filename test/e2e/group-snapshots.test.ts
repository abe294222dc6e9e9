import { type ChildProcess, spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { setPriority } from "node:os";
import { join } from "node:path";
import type { V1Pod } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { KubeObject } from "../../functions/lib/kube/objects.ts";
import { GROUP_LABEL } from "../../functions/lib/volumes/group-snapshots.ts";
import { startHelperPod } from "../../functions/lib/volumes/helper-pod.ts";
import {
  deleteIfPresent,
  getObject,
  listObjects,
  paths,
  systemClock,
} from "../../functions/lib/volumes/kube-calls.ts";
import type { ExecTarget } from "../../functions/lib/volumes/pod-exec.ts";
import { waitFor } from "../env/clusters.ts";
import { seed } from "../integration/kube/kube-test-env.ts";
import { type Side, temporaryObjects } from "../integration/volumes/volume-env.ts";
import { failures, PAIR, startWorkflowEnv, type WorkflowEnv } from "./workflow-env.ts";

// Whole migrations on a small shared machine: minutes, not seconds.
vi.setConfig({ testTimeout: 900_000 });

const NAMESPACE = "ledger";
/** Two single-volume StatefulSets of one app (a data and a WAL volume), on one CSI driver. */
const PARTS = [
  { name: "ledger-data", claim: "data-ledger-data-0" },
  { name: "ledger-wal", claim: "wal-ledger-wal-0" },
] as const;
const request = { pair: PAIR, namespaces: [NAMESPACE], excludeResourceTypes: ["*.kwok.x-k8s.io"] };

let env: WorkflowEnv;
let writer: ChildProcess | undefined;
const sourceMounts: string[] = [];

function statefulSet(part: (typeof PARTS)[number]): KubeObject {
  const template = part.claim.split("-")[0] as string;
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name: part.name, namespace: NAMESPACE, labels: { app: "ledger" } },
    spec: {
      replicas: 1,
      serviceName: part.name,
      selector: { matchLabels: { app: part.name } },
      template: {
        metadata: { labels: { app: part.name } },
        spec: {
          containers: [
            {
              name: "ledger",
              image: "registry.local/ledger:1",
              volumeMounts: [{ name: template, mountPath: "/data" }],
            },
          ],
        },
      },
      volumeClaimTemplates: [
        {
          metadata: { name: template },
          spec: {
            accessModes: ["ReadWriteOnce"],
            storageClassName: "sim-fast",
            resources: { requests: { storage: "32Mi" } },
          },
        },
      ],
    },
  } as KubeObject;
}

/** Where the source pod of a part has its volume mounted on this host (the node shim's mount). */
async function mountOf(side: Side, part: (typeof PARTS)[number]): Promise<string> {
  const target: ExecTarget = {
    cluster: side.client.name,
    namespace: NAMESPACE,
    pod: `${part.name}-0`,
    container: "ledger",
    volume: "ledger volume",
  };
  let mount = "";
  await waitFor(`pod ${part.name}-0 to run with its volume mounted`, async () => {
    const pod = await getObject<V1Pod>(side.client, paths.pod(NAMESPACE, `${part.name}-0`));
    if (pod?.status?.phase !== "Running") return false;
    mount = (
      await side.exec.run(target, {
        script: 'test -d "${KUBEFERRY_MOUNT:?}" && echo "$KUBEFERRY_MOUNT"',
        what: "mount",
      })
    )
      .toString("utf8")
      .trim();
    return true;
  });
  return mount;
}

/**
 * The app's writer: step n writes n into the data volume, then into the WAL volume, each in place
 * (fixed width, no truncation), so at any instant the two counters differ by at most one step.
 * Pods run no process under KWOK, so it runs on the host, where their mounts are.
 */
function startLockstepWriter(data: string, wal: string): ChildProcess {
  const script = `n=0
while :; do
  n=$((n+1))
  printf '%012d\\n' "$n" 1<>"$1/counter"
  printf '%012d\\n' "$n" 1<>"$2/counter"
done`;
  const child = spawn("/bin/busybox", ["sh", "-c", script, "writer", data, wal], { stdio: "ignore" });
  // As fast as it can, so that two snapshots cut even a millisecond apart show it; at the lowest
  // priority (Debian's busybox has no nice), so that it takes only what the machine leaves idle.
  if (child.pid !== undefined) setPriority(child.pid, 19);
  return child;
}

/** The counter in a destination PVC, read through a helper pod of its own, removed afterwards. */
async function destinationCounter(claim: string): Promise<number> {
  const side = env.volumes.destination;
  const name = `read-${claim}`;
  const pod = await startHelperPod(
    { client: side.client, exec: side.exec, clock: systemClock },
    {
      runId: "group-snapshots-check",
      namespace: NAMESPACE,
      name,
      claimName: claim,
      volumeMode: "Filesystem",
      readOnly: true,
      volume: `PVC ${NAMESPACE}/${claim}`,
      volumeBytes: 0,
    },
  );
  try {
    const text = await side.exec.run(pod, { script: 'cat "$KUBEFERRY_MOUNT/counter"', what: "counter" });
    return Number(text.toString("utf8").trim());
  } finally {
    // The standby guard refuses the next run while a pod mounts the copy.
    await deleteIfPresent(side.client, paths.pod(NAMESPACE, name));
    await waitFor(`reader pod ${name} to go`, async () => {
      return (await getObject(side.client, paths.pod(NAMESPACE, name))) === undefined;
    });
  }
}

async function migrateAndReadCounters(groupSnapshots: "auto" | "off", name: string) {
  const run = await env.run("migrate", { ...request, groupSnapshots }, name);
  expect(run.output?.result?.status, failures(run)).toBe("Successful");
  const repository = await env.deps.openRepository(PAIR);
  const record = await repository.manifests.readRunRecord(name);
  const [data, wal] = [await destinationCounter(PARTS[0].claim), await destinationCounter(PARTS[1].claim)];
  return { data: data as number, wal: wal as number, record };
}

beforeAll(async () => {
  env = await startWorkflowEnv();
  await seed(env.volumes.source.client, [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: NAMESPACE } } as KubeObject,
    ...PARTS.map(statefulSet),
  ]);
  for (const part of PARTS) sourceMounts.push(await mountOf(env.volumes.source, part));
  writer = startLockstepWriter(sourceMounts[0] as string, sourceMounts[1] as string);
});

afterAll(async () => {
  writer?.kill("SIGKILL");
  await env?.stop();
});

describe("volume group snapshots", () => {
  it("cut an app's two volumes at one instant: the counters written in lockstep differ by at most one step on the destination", async () => {
    const moved = await migrateAndReadCounters("auto", "kf-group-auto");
    expect(moved.data).toBeGreaterThan(0);
    // The writer went on after the cut: the copy is of one instant, not of a stopped app.
    const now = Number((await readFile(join(sourceMounts[0] as string, "counter"), "utf8")).trim());
    expect(now).toBeGreaterThan(moved.data);
    // The data volume is written first in each step: it is equal to the WAL's or one ahead.
    console.info(`group snapshot: data ${moved.data}, wal ${moved.wal}`);
    expect(moved.data - moved.wal).toBeGreaterThanOrEqual(0);
    expect(moved.data - moved.wal).toBeLessThanOrEqual(1);
    const groups = new Set(moved.record.volumes.map((volume) => volume.snapshotGroup));
    expect(groups.size).toBe(1);
    expect([...groups][0]).toMatch(/^kf-group-/);
    // Nothing of the cut is left: no group, no member snapshot, no label on the app's PVCs.
    const source = env.volumes.source.client;
    expect(await listObjects(source, paths.allGroupSnapshots())).toEqual([]);
    expect(await listObjects(source, paths.snapshots(NAMESPACE))).toEqual([]);
    expect(await listObjects(source, paths.allPvcs(), GROUP_LABEL)).toEqual([]);
    expect(await temporaryObjects(env.volumes.source)).toEqual([]);
  });

  it("without them the two snapshots are cut one after the other, and the counters can differ by more", async () => {
    // "can": the gap between two snapshots is the storage stack's timing; a few tries show it.
    const gaps: number[] = [];
    for (let attempt = 0; attempt < 3 && !gaps.some((gap) => gap > 1); attempt++) {
      const moved = await migrateAndReadCounters("off", `kf-group-off-${attempt}`);
      expect(moved.record.volumes.every((volume) => volume.snapshotGroup === undefined)).toBe(true);
      gaps.push(Math.abs(moved.data - moved.wal));
    }
    console.info(`single snapshots: counter gaps ${gaps.join(", ")}`);
    expect(Math.max(...gaps), `counter gaps: ${gaps.join(", ")}`).toBeGreaterThan(1);
  });
});
