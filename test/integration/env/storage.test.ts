import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  StorageV1Api,
  type V1PersistentVolumeClaim,
} from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalCluster, type LocalClusters, startClusters, waitFor } from "../../env/clusters.ts";
import { blockDriver, filesDriver, zoneLabel } from "../../env/manifests/storage-objects.ts";
import { processesMentioning } from "./leftover-processes.ts";
import { execInPod } from "./pod-exec.ts";

const namespace = "storage-check";
const streamBytes = 16 * 2 ** 20;
const slowSnapshotSeconds = 8;

let env: LocalClusters;
let cluster: LocalCluster;
let kc: KubeConfig;
let core: CoreV1Api;
let custom: CustomObjectsApi;

beforeAll(async () => {
  env = await startClusters(["source"], { slowSnapshotSeconds });
  cluster = env.get("source");
  kc = cluster.kubeConfig();
  core = kc.makeApiClient(CoreV1Api);
  custom = kc.makeApiClient(CustomObjectsApi);
  await core.createNamespace({ body: { metadata: { name: namespace } } });
});

afterAll(async () => {
  const workDir = env?.workDir;
  await env?.stop();
  expect(processesMentioning(workDir)).toEqual([]);
  // No volume of the stopped environment is left mounted or attached to a loop device.
  expect(readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(workDir);
  const loops = readFileSync("/proc/partitions", "utf8").match(/loop\d+/g) ?? [];
  for (const loop of loops) {
    const backing = `/sys/block/${loop}/loop/backing_file`;
    if (existsSync(backing)) expect(readFileSync(backing, "utf8")).not.toContain(workDir);
  }
});

type VolumeMode = "Block" | "Filesystem";
type Pod = { namespace: string; name: string; container: string };

async function createClaim(
  name: string,
  volumeMode: VolumeMode,
  options: { storageClassName?: string; fromSnapshot?: string; size?: string } = {},
): Promise<void> {
  await core.createNamespacedPersistentVolumeClaim({
    namespace,
    body: {
      metadata: { name },
      spec: {
        accessModes: ["ReadWriteOnce"],
        volumeMode,
        storageClassName: options.storageClassName,
        resources: { requests: { storage: options.size ?? "32Mi" } },
        dataSource: options.fromSnapshot
          ? { apiGroup: "snapshot.storage.k8s.io", kind: "VolumeSnapshot", name: options.fromSnapshot }
          : undefined,
      },
    },
  });
}

async function boundClaim(name: string): Promise<V1PersistentVolumeClaim> {
  let claim: V1PersistentVolumeClaim | undefined;
  await waitFor(`PVC ${name} to be Bound`, async () => {
    claim = await core.readNamespacedPersistentVolumeClaim({ namespace, name });
    return claim.status?.phase === "Bound";
  });
  return claim as V1PersistentVolumeClaim;
}

/** A running pod using the claim; returns once exec sees the node shim's variable for it. */
async function podUsing(name: string, claimName: string, volumeMode: VolumeMode): Promise<Pod> {
  const attachment =
    volumeMode === "Block"
      ? { volumeDevices: [{ name: "data", devicePath: "/dev/xvda" }] }
      : { volumeMounts: [{ name: "data", mountPath: "/data" }] };
  await core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name },
      spec: {
        containers: [{ name: "main", image: "busybox", ...attachment }],
        volumes: [{ name: "data", persistentVolumeClaim: { claimName } }],
      },
    },
  });
  const pod = { namespace, name, container: "main" };
  const variable = volumeMode === "Block" ? "KUBEFERRY_DEVICE" : "KUBEFERRY_MOUNT";
  await waitFor(`pod ${name} to run with ${variable}`, async () => {
    const result = await execInPod(kc, pod, ["sh", "-c", `echo "$${variable}"`]);
    return result.stdout.toString().trim() !== "";
  });
  return pod;
}

async function shell(pod: Pod, script: string, stdin?: Buffer): Promise<Buffer> {
  const result = await execInPod(kc, pod, ["sh", "-c", script], stdin);
  expect(result.status?.status, `${script}: ${result.stderr}`).toBe("Success");
  return result.stdout;
}

async function createSnapshot(name: string, claimName: string, className?: string): Promise<void> {
  await custom.createNamespacedCustomObject({
    group: "snapshot.storage.k8s.io",
    version: "v1",
    namespace,
    plural: "volumesnapshots",
    body: {
      apiVersion: "snapshot.storage.k8s.io/v1",
      kind: "VolumeSnapshot",
      metadata: { name },
      spec: { source: { persistentVolumeClaimName: claimName }, volumeSnapshotClassName: className },
    },
  });
}

interface SnapshotStatus {
  readyToUse?: boolean;
  boundVolumeSnapshotContentName?: string;
  restoreSize?: string;
}

async function snapshotStatus(name: string): Promise<SnapshotStatus> {
  const snapshot = await custom.getNamespacedCustomObject({
    group: "snapshot.storage.k8s.io",
    version: "v1",
    namespace,
    plural: "volumesnapshots",
    name,
  });
  return snapshot.status ?? {};
}

async function readySnapshot(name: string, timeoutMs = 60_000): Promise<SnapshotStatus> {
  let status: SnapshotStatus = {};
  await waitFor(
    `VolumeSnapshot ${name} to be readyToUse`,
    async () => {
      status = await snapshotStatus(name);
      return status.readyToUse === true;
    },
    timeoutMs,
  );
  return status;
}

async function eventMessages(objectName: string, reason: string): Promise<string[]> {
  const events = await core.listNamespacedEvent({
    namespace,
    fieldSelector: `involvedObject.name=${objectName},reason=${reason}`,
  });
  return events.items.map((event) => event.message ?? "");
}

describe("storage of a local cluster", () => {
  const original = randomBytes(streamBytes);

  it("runs the upstream provisioner, snapshotters, snapshot controller and local-path-provisioner", () => {
    const commands = processesMentioning(cluster.workDir).map((p) => p.commandLine);
    const count = (binary: string) =>
      commands.filter((line) => line.split(" ")[0]?.endsWith(`/${binary}`)).length;
    expect(count("csi-provisioner")).toBe(2);
    expect(count("csi-snapshotter")).toBe(2);
    expect(count("snapshot-controller")).toBe(1);
    expect(count("local-path-provisioner")).toBe(1);
    expect(count("kubeferry-csi-driver")).toBe(2);
  });

  it("registers both drivers on every node with the zone as topology key (CSINode)", async () => {
    const csiNodes = await kc.makeApiClient(StorageV1Api).listCSINode();
    const nodes = await core.listNode();
    expect(csiNodes.items.map((n) => n.metadata?.name).sort()).toEqual([...cluster.nodeNames].sort());
    for (const csiNode of csiNodes.items) {
      expect(csiNode.spec.drivers.map((d) => d.name).sort()).toEqual([blockDriver, filesDriver].sort());
      expect(csiNode.spec.drivers[0]?.topologyKeys).toEqual([zoneLabel]);
      const node = nodes.items.find((n) => n.metadata?.name === csiNode.metadata?.name);
      expect(node?.metadata?.labels?.[zoneLabel]).toMatch(/^zone-[abc]$/);
    }
    expect(new Set(cluster.nodes.map((n) => n.zone)).size).toBe(3);
  });

  it("binds a PVC of each Immediate class at once", async () => {
    const classes = cluster.classes;
    for (const [name, storageClassName, mode] of [
      ["of-fast", classes.fast, "Block"],
      ["of-retain", classes.retain, "Block"],
      ["of-thick", classes.thick, "Block"],
      ["of-slow", classes.slow, "Block"],
      ["of-files", classes.files, "Filesystem"],
    ] as const) {
      await createClaim(name, mode, { storageClassName });
    }
    for (const name of ["of-fast", "of-retain", "of-thick", "of-slow", "of-files"]) {
      const claim = await boundClaim(name);
      const pv = await core.readPersistentVolume({ name: claim.spec?.volumeName as string });
      expect(pv.metadata?.annotations?.["pv.kubernetes.io/provisioned-by"]).toBe(pv.spec?.csi?.driver);
    }
    const image = statSync(
      cluster.volumeImagePath((await pvOf("of-fast")).spec?.csi?.volumeHandle as string),
    );
    expect(image.size).toBe(32 * 2 ** 20);
    expect(image.blocks * 512).toBeLessThan(image.size);
  });

  it("binds a zonal claim only once a pod uses it, in the zone of the pod's node, rounded up to 1 GiB", async () => {
    await createClaim("of-zonal", "Block", { storageClassName: cluster.classes.zonal, size: "100Mi" });
    await waitFor(
      "the WaitForFirstConsumer event",
      async () => (await eventMessages("of-zonal", "WaitForFirstConsumer")).length > 0,
    );
    expect(
      (await core.readNamespacedPersistentVolumeClaim({ namespace, name: "of-zonal" })).status?.phase,
    ).toBe("Pending");
    await podUsing("zonal-user", "of-zonal", "Block");
    const claim = await boundClaim("of-zonal");
    expect(claim.status?.capacity?.storage).toBe("1Gi");
    const pod = await core.readNamespacedPod({ namespace, name: "zonal-user" });
    const node = cluster.nodes.find((n) => n.name === pod.spec?.nodeName);
    const pv = await pvOf("of-zonal");
    const terms = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms ?? [];
    expect(terms.flatMap((t) => t.matchExpressions ?? [])).toEqual([
      { key: zoneLabel, operator: "In", values: [node?.zone] },
    ]);
  });

  it("binds a local-path claim once a pod uses it, to a folder of the pod's node", async () => {
    await createClaim("of-local-path", "Filesystem", { storageClassName: cluster.classes.localPath });
    const pod = await podUsing("local-path-user", "of-local-path", "Filesystem");
    await boundClaim("of-local-path");
    const mount = (await shell(pod, 'echo kept > "$KUBEFERRY_MOUNT/file" && echo "$KUBEFERRY_MOUNT"'))
      .toString()
      .trim();
    const node = (await core.readNamespacedPod({ namespace, name: "local-path-user" })).spec?.nodeName;
    expect(mount).toContain(`/local-path/${node}/`);
    expect(readFileSync(`${mount}/file`, "utf8")).toBe("kept\n");
  });

  it("refuses a Block claim of the files class with the driver's message", async () => {
    await createClaim("block-of-files", "Block", { storageClassName: cluster.classes.files });
    await waitFor("the ProvisioningFailed event", async () =>
      (await eventMessages("block-of-files", "ProvisioningFailed")).some((message) =>
        message.includes(
          `block volumes are not supported by ${filesDriver} (directory mode): use volumeMode Filesystem`,
        ),
      ),
    );
    const refused = await core.readNamespacedPersistentVolumeClaim({ namespace, name: "block-of-files" });
    expect(refused.status?.phase).toBe("Pending");
  });

  it("gives a fresh thick volume non-zero bytes, a fresh thin one zeros", async () => {
    const thick = await podUsing("thick-reader", "of-thick", "Block");
    const thin = await podUsing("thin-reader", "of-retain", "Block");
    const read = 'head -c 65536 "$KUBEFERRY_DEVICE" | tr -d "\\000" | wc -c';
    expect(Number((await shell(thick, read)).toString())).toBeGreaterThan(0);
    expect(Number((await shell(thin, read)).toString())).toBe(0);
  });

  it("writes a 16 MiB stream through exec stdin to a loop device and reads it back", async () => {
    const pod = await podUsing("writer", "of-fast", "Block");
    expect((await shell(pod, 'test -b "$KUBEFERRY_DEVICE" && echo block')).toString()).toBe("block\n");
    // kwok never closes the command's stdin, so the writer stops after an exact byte count.
    await shell(
      pod,
      `head -c ${streamBytes} | dd of="$KUBEFERRY_DEVICE" bs=1M conv=notrunc status=none`,
      original,
    );
    expect((await shell(pod, `head -c ${streamBytes} "$KUBEFERRY_DEVICE"`)).equals(original)).toBe(true);
  });

  it("snapshots a Block volume; a restore holds the snapshot's bytes and not later writes", async () => {
    await createSnapshot("fast-snap", "of-fast");
    const status = await readySnapshot("fast-snap");
    expect(status.restoreSize).toBe("32Mi");
    const writer = { namespace, name: "writer", container: "main" };
    await shell(
      writer,
      'head -c 1048576 /dev/urandom | dd of="$KUBEFERRY_DEVICE" bs=1M conv=notrunc status=none',
    );
    await createClaim("restored", "Block", { fromSnapshot: "fast-snap" });
    await boundClaim("restored");
    const reader = await podUsing("reader", "restored", "Block");
    expect((await shell(reader, `head -c ${streamBytes} "$KUBEFERRY_DEVICE"`)).equals(original)).toBe(true);
  });

  it("keeps a Filesystem volume's files in a real ext4 image, unmounted when the pod goes", async () => {
    await createClaim("fs", "Filesystem");
    await boundClaim("fs");
    const app = await podUsing("fs-app", "fs", "Filesystem");
    const mount = (
      await shell(
        app,
        'mkdir -p "$KUBEFERRY_MOUNT/db" && echo rows > "$KUBEFERRY_MOUNT/db/table" && echo "$KUBEFERRY_MOUNT"',
      )
    )
      .toString()
      .trim();
    const mountLine = readFileSync("/proc/self/mountinfo", "utf8")
      .split("\n")
      .find((line) => line.split(" ")[4] === mount);
    expect(mountLine).toMatch(/ - ext4 \/dev\/loop\d+ /);
    await createSnapshot("fs-snap", "fs");
    await readySnapshot("fs-snap");
    await core.deleteNamespacedPod({ namespace, name: "fs-app", gracePeriodSeconds: 0 });
    await waitFor(
      "the pod's mount to be gone",
      async () => !readFileSync("/proc/self/mountinfo", "utf8").includes(mount),
    );
    await createClaim("fs-restored", "Filesystem", { fromSnapshot: "fs-snap" });
    await boundClaim("fs-restored");
    const restored = await podUsing("fs-restored-app", "fs-restored", "Filesystem");
    expect((await shell(restored, 'cat "$KUBEFERRY_MOUNT/db/table"')).toString()).toBe("rows\n");
  });

  it("makes a snapshot of every snapshotting class ready, the slow one only after its delay", async () => {
    await createSnapshot("slow-snap", "of-slow");
    const cut = Date.now();
    await waitFor("the slow snapshot to be cut", async () =>
      Boolean((await snapshotStatus("slow-snap")).boundVolumeSnapshotContentName),
    );
    // Observed well inside the delay, so "not ready" is the driver's doing, not a slow machine.
    expect(Date.now() - cut).toBeLessThan(slowSnapshotSeconds * 1000);
    expect((await snapshotStatus("slow-snap")).readyToUse).not.toBe(true);
    await createSnapshot("retain-snap", "of-retain");
    await createSnapshot("thick-snap", "of-thick");
    await createSnapshot("zonal-snap", "of-zonal");
    await createSnapshot("files-snap", "of-files", cluster.classes.filesSnapshot);
    for (const name of ["retain-snap", "thick-snap", "zonal-snap", "files-snap"]) await readySnapshot(name);
    await readySnapshot("slow-snap", 120_000);
    expect(Date.now() - cut).toBeGreaterThanOrEqual(slowSnapshotSeconds * 1000);
  });

  it("cuts a VolumeGroupSnapshot of labelled claims into ready member snapshots", async () => {
    for (const name of ["member-a", "member-b"]) {
      await core.createNamespacedPersistentVolumeClaim({
        namespace,
        body: {
          metadata: { name, labels: { group: "ledger" } },
          spec: {
            accessModes: ["ReadWriteOnce"],
            volumeMode: "Block",
            resources: { requests: { storage: "8Mi" } },
          },
        },
      });
      await boundClaim(name);
    }
    const group = {
      group: "groupsnapshot.storage.k8s.io",
      version: "v1",
      namespace,
      plural: "volumegroupsnapshots",
    };
    await custom.createNamespacedCustomObject({
      ...group,
      body: {
        apiVersion: "groupsnapshot.storage.k8s.io/v1",
        kind: "VolumeGroupSnapshot",
        metadata: { name: "ledger" },
        spec: {
          volumeGroupSnapshotClassName: cluster.classes.groupSnapshot,
          source: { selector: { matchLabels: { group: "ledger" } } },
        },
      },
    });
    await waitFor("the group snapshot to be ready", async () => {
      const snapshot = await custom.getNamespacedCustomObject({ ...group, name: "ledger" });
      return snapshot.status?.readyToUse === true;
    });
    const members = await custom.listNamespacedCustomObject({
      group: "snapshot.storage.k8s.io",
      version: "v1",
      namespace,
      plural: "volumesnapshots",
    });
    const sources = members.items
      .filter((s: { metadata: { ownerReferences?: { kind: string }[] } }) =>
        s.metadata.ownerReferences?.some((owner) => owner.kind === "VolumeGroupSnapshot"),
      )
      .map(
        (s: { spec: { source: { persistentVolumeClaimName?: string } } }) =>
          s.spec.source.persistentVolumeClaimName,
      );
    expect(sources.sort()).toEqual(["member-a", "member-b"]);
  });

  it("deletes the image of a released Delete volume and keeps a Retain one", async () => {
    await createClaim("scratch", "Block");
    await createClaim("kept", "Block", { storageClassName: cluster.classes.retain });
    const scratchImage = cluster.volumeImagePath((await pvOf("scratch")).spec?.csi?.volumeHandle as string);
    const keptPv = await pvOf("kept");
    const keptImage = cluster.volumeImagePath(keptPv.spec?.csi?.volumeHandle as string);
    await core.deleteNamespacedPersistentVolumeClaim({ namespace, name: "scratch" });
    await core.deleteNamespacedPersistentVolumeClaim({ namespace, name: "kept" });
    await waitFor("the Delete volume's image to be removed", async () => !existsSync(scratchImage));
    await waitFor("the Retain volume to be Released", async () => {
      const pv = await core.readPersistentVolume({ name: keptPv.metadata?.name as string });
      return pv.status?.phase === "Released";
    });
    expect(existsSync(keptImage)).toBe(true);
  });

  it("binds the volumes of a cassandra-like StatefulSet whose class is named by the beta annotation", async () => {
    const fast = await kc.makeApiClient(StorageV1Api).readStorageClass({ name: cluster.classes.fast });
    await kc.makeApiClient(StorageV1Api).createStorageClass({
      body: {
        metadata: { name: "fast" },
        provisioner: fast.provisioner,
        parameters: fast.parameters,
        reclaimPolicy: fast.reclaimPolicy,
        volumeBindingMode: fast.volumeBindingMode,
      },
    });
    await kc.makeApiClient(AppsV1Api).createNamespacedStatefulSet({ namespace, body: cassandraLike() });
    await waitFor(
      "three cassandra pods to run with bound volumes",
      async () => {
        const claims = await core.listNamespacedPersistentVolumeClaim({
          namespace,
          labelSelector: "app=cassandra",
        });
        const pods = await core.listNamespacedPod({ namespace, labelSelector: "app=cassandra" });
        return (
          claims.items.filter((c) => c.status?.phase === "Bound").length === 3 &&
          pods.items.filter((p) => p.status?.phase === "Running").length === 3
        );
      },
      180_000,
    );
    const claim = await core.readNamespacedPersistentVolumeClaim({
      namespace,
      name: "cassandra-data-cassandra-0",
    });
    expect(
      (await core.readPersistentVolume({ name: claim.spec?.volumeName as string })).spec?.storageClassName,
    ).toBe("fast");
  });
});

async function pvOf(claimName: string) {
  const claim = await boundClaim(claimName);
  return core.readPersistentVolume({ name: claim.spec?.volumeName as string });
}

/** The shape of kubernetes/examples' cassandra StatefulSet (written here, not copied). */
function cassandraLike() {
  return {
    metadata: { name: "cassandra", labels: { app: "cassandra" } },
    spec: {
      serviceName: "cassandra",
      replicas: 3,
      selector: { matchLabels: { app: "cassandra" } },
      template: {
        metadata: { labels: { app: "cassandra" } },
        spec: {
          terminationGracePeriodSeconds: 1800,
          containers: [
            {
              name: "cassandra",
              image: "gcr.io/google-samples/cassandra:v13",
              ports: [7000, 7001, 7199, 9042].map((containerPort) => ({ containerPort })),
              resources: { limits: { cpu: "500m", memory: "1Gi" }, requests: { cpu: "500m", memory: "1Gi" } },
              securityContext: { capabilities: { add: ["IPC_LOCK"] } },
              env: [{ name: "MAX_HEAP_SIZE", value: "512M" }],
              volumeMounts: [{ name: "cassandra-data", mountPath: "/cassandra_data" }],
            },
          ],
        },
      },
      volumeClaimTemplates: [
        {
          metadata: {
            name: "cassandra-data",
            labels: { app: "cassandra" },
            annotations: { "volume.beta.kubernetes.io/storage-class": "fast" },
          },
          spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
        },
      ],
    },
  };
}
