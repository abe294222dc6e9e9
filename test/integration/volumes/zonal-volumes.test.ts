import type { V1Node, V1PersistentVolume, V1PersistentVolumeClaim, V1Pod } from "@kubernetes/client-node";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createOrGet, getObject, paths } from "../../../functions/lib/volumes/kube-calls.ts";
import { volumeZone, ZONE_LABEL } from "../../../functions/lib/volumes/volume-placement.ts";
import { cleanupBoth, restoreAll, snapshotAndStage } from "./migrate.ts";
import {
  createNamespace,
  createVolume,
  openTestRepository,
  type Side,
  startVolumeEnv,
  type VolumeEnv,
} from "./volume-env.ts";

const MiB = 1024 * 1024;
let env: VolumeEnv;

beforeAll(async () => {
  env = await startVolumeEnv();
});

afterAll(async () => {
  await env?.stop();
});

async function pvZone(side: Side, namespace: string, pvc: string): Promise<string | undefined> {
  const claim = await getObject<V1PersistentVolumeClaim>(side.client, paths.pvc(namespace, pvc));
  const pv = await getObject<V1PersistentVolume>(side.client, paths.pv(claim?.spec?.volumeName ?? ""));
  return volumeZone(pv?.spec?.nodeAffinity?.required as Parameters<typeof volumeZone>[0]);
}

it("reads a zonal volume in its zone and provisions the destination volume in the same zone", async () => {
  const namespace = "shop-zonal";
  const zone = "zone-b";
  await createNamespace(env.source, namespace);
  await createNamespace(env.destination, namespace);
  // A WaitForFirstConsumer volume is provisioned where its first pod is scheduled: pinned here to
  // a zone the scheduler would not pick first, so that landing there by chance is unlikely.
  await createOrGet(env.source.client, paths.pods(namespace), {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "app", namespace },
    spec: {
      nodeSelector: { [ZONE_LABEL]: zone },
      containers: [
        {
          name: "app",
          image: "docker.io/library/busybox:1.36.1",
          command: ["sleep", "3600"],
          volumeDevices: [{ name: "data", devicePath: "/dev/data" }],
        },
      ],
      volumes: [{ name: "data", persistentVolumeClaim: { claimName: "ledger" } }],
    },
  });
  await createVolume(env.source, namespace, "ledger", 8 * MiB, "Block", {}, env.source.cluster.classes.zonal);
  expect(await pvZone(env.source, namespace, "ledger")).toBe(zone);

  const runId = "run-zonal";
  const repository = await openTestRepository(env, "volumes");
  const options = {
    runId,
    namespace,
    pvcs: ["ledger"],
    chunkBytes: MiB,
    destinationStorageClass: env.destination.cluster.classes.zonal,
  };
  try {
    const staged = await snapshotAndStage(env, repository, options);
    const target = staged.plans[0]?.target;
    const helper = await getObject<V1Pod>(
      env.source.client,
      paths.pod(target?.namespace ?? "", target?.pod ?? ""),
    );
    const node = await getObject<V1Node>(env.source.client, `/api/v1/nodes/${helper?.spec?.nodeName}`);
    expect(node?.metadata?.labels?.[ZONE_LABEL]).toBe(zone);
    await restoreAll(env, repository, options, staged);
    expect(await pvZone(env.destination, namespace, "ledger")).toBe(zone);
  } finally {
    await cleanupBoth(env, runId);
  }
}, 600_000);

it("provisions WaitForFirstConsumer volumes where the workload's pod template lets its pods run", async () => {
  const namespace = "shop-spread";
  await createNamespace(env.source, namespace);
  await createNamespace(env.destination, namespace);
  const container = { name: "app", image: "docker.io/library/busybox:1.36.1", command: ["sleep", "3600"] };
  // Zero replicas: only the templates matter, as for an app migrated in standby.
  await createOrGet(env.source.client, `/apis/apps/v1/namespaces/${namespace}/statefulsets`, {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name: "db", namespace },
    spec: {
      replicas: 0,
      serviceName: "db",
      selector: { matchLabels: { app: "db" } },
      template: {
        metadata: { labels: { app: "db" } },
        spec: {
          topologySpreadConstraints: [
            {
              topologyKey: ZONE_LABEL,
              maxSkew: 1,
              whenUnsatisfiable: "DoNotSchedule",
              labelSelector: { matchLabels: { app: "db" } },
            },
          ],
          containers: [container],
        },
      },
      volumeClaimTemplates: [
        {
          metadata: { name: "data" },
          spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "8Mi" } } },
        },
      ],
    },
  });
  await createOrGet(env.source.client, `/apis/apps/v1/namespaces/${namespace}/deployments`, {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace },
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: "web" } },
      template: {
        metadata: { labels: { app: "web" } },
        spec: {
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [
                  { matchExpressions: [{ key: ZONE_LABEL, operator: "In", values: ["zone-c"] }] },
                ],
              },
            },
          },
          containers: [container],
          volumes: [{ name: "uploads", persistentVolumeClaim: { claimName: "uploads" } }],
        },
      },
    },
  });
  // Source volumes of an Immediate class with no zone: only the templates can place them.
  const pvcs = ["data-db-1", "data-db-2", "uploads"];
  for (const pvc of pvcs) await createVolume(env.source, namespace, pvc, 8 * MiB, "Block");

  const runId = "run-spread";
  const repository = await openTestRepository(env, "volumes");
  const options = {
    runId,
    namespace,
    pvcs,
    chunkBytes: MiB,
    destinationStorageClass: env.destination.cluster.classes.zonal,
  };
  try {
    const staged = await snapshotAndStage(env, repository, options);
    await restoreAll(env, repository, options, staged);
    // The replicas' volumes spread by ordinal over the destination's zones (sorted); the
    // Deployment's lands in the one zone its affinity allows.
    expect(await Promise.all(pvcs.map((pvc) => pvZone(env.destination, namespace, pvc)))).toEqual([
      "zone-b",
      "zone-c",
      "zone-c",
    ]);
  } finally {
    await cleanupBoth(env, runId);
  }
}, 600_000);
