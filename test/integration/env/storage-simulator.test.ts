import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import {
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1PersistentVolumeClaim,
} from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalCluster, type LocalClusters, startClusters, waitFor } from "../../env/clusters.ts";
import { simulatedDriver } from "../../env/manifests/cluster-objects.ts";
import { allowVolumeModeChangeAnnotation } from "../../env/storage-simulator.ts";
import { processesMentioning } from "./leftover-processes.ts";
import { execInPod } from "./pod-exec.ts";

const namespace = "storage-check";
const streamBytes = 16 * 2 ** 20;

let env: LocalClusters;
let cluster: LocalCluster;
let kc: KubeConfig;
let core: CoreV1Api;
let custom: CustomObjectsApi;

beforeAll(async () => {
  env = await startClusters(["source"]);
  cluster = env.get("source");
  kc = cluster.kubeConfig();
  core = kc.makeApiClient(CoreV1Api);
  custom = kc.makeApiClient(CustomObjectsApi);
  await core.createNamespace({ body: { metadata: { name: namespace } } });
});

afterAll(async () => {
  await env?.stop();
  expect(processesMentioning(env.workDir)).toEqual([]);
});

type VolumeMode = "Block" | "Filesystem";

async function createClaim(
  name: string,
  volumeMode: VolumeMode,
  options: { storageClassName?: string; fromSnapshot?: string } = {},
): Promise<void> {
  await core.createNamespacedPersistentVolumeClaim({
    namespace,
    body: {
      metadata: { name },
      spec: {
        accessModes: ["ReadWriteOnce"],
        volumeMode,
        storageClassName: options.storageClassName,
        resources: { requests: { storage: "32Mi" } },
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

/** A running pod using the claim; returns once exec sees the simulator's variable for it. */
async function podUsing(name: string, claimName: string, volumeMode: VolumeMode) {
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
    const result = await execInPod(kc, pod, ["printenv", variable]);
    return result.stdout.toString().trim() !== "";
  });
  return pod;
}

async function readDevice(pod: { namespace: string; name: string; container: string }, bytes: number) {
  const result = await execInPod(kc, pod, ["sh", "-c", `head -c ${bytes} "$KUBEFERRY_DEVICE"`]);
  expect(result.status?.status, result.stderr).toBe("Success");
  return result.stdout;
}

async function createSnapshot(name: string, claimName: string): Promise<void> {
  await custom.createNamespacedCustomObject({
    group: "snapshot.storage.k8s.io",
    version: "v1",
    namespace,
    plural: "volumesnapshots",
    body: {
      apiVersion: "snapshot.storage.k8s.io/v1",
      kind: "VolumeSnapshot",
      metadata: { name },
      spec: { source: { persistentVolumeClaimName: claimName } },
    },
  });
}

interface SnapshotStatus {
  readyToUse?: boolean;
  boundVolumeSnapshotContentName?: string;
  restoreSize?: string;
}

async function readySnapshot(name: string): Promise<SnapshotStatus> {
  let status: SnapshotStatus = {};
  await waitFor(`VolumeSnapshot ${name} to be readyToUse`, async () => {
    const snapshot = await custom.getNamespacedCustomObject({
      group: "snapshot.storage.k8s.io",
      version: "v1",
      namespace,
      plural: "volumesnapshots",
      name,
    });
    status = snapshot.status ?? {};
    return status.readyToUse === true;
  });
  return status;
}

async function imagePathOf(claimName: string): Promise<string> {
  const claim = await boundClaim(claimName);
  const pv = await core.readPersistentVolume({ name: claim.spec?.volumeName as string });
  return `${cluster.workDir}/volumes/${pv.spec?.csi?.volumeHandle}.img`;
}

describe("storage simulator", () => {
  const original = randomBytes(streamBytes);

  it("binds a PVC of a simulated class to a PV backed by a sparse file", async () => {
    await createClaim("origin", "Block");
    const claim = await boundClaim("origin");
    expect(claim.spec?.storageClassName).toBe(cluster.classes.fast);
    const pv = await core.readPersistentVolume({ name: claim.spec?.volumeName as string });
    expect(pv.spec?.csi?.driver).toBe(simulatedDriver);
    expect(pv.spec?.volumeMode).toBe("Block");
    const image = statSync(await imagePathOf("origin"));
    expect(image.size).toBe(32 * 2 ** 20);
    expect(image.blocks * 512).toBeLessThan(image.size);
  });

  it("writes a 16 MiB binary stream through exec stdin to the device and reads it back through stdout", async () => {
    const pod = await podUsing("writer", "origin", "Block");
    // kwok never closes the command's stdin, so the writer stops after an exact byte count.
    const write = await execInPod(
      kc,
      pod,
      ["sh", "-c", `head -c ${streamBytes} | dd of="$KUBEFERRY_DEVICE" bs=1M conv=notrunc status=none`],
      original,
    );
    expect(write.status?.status, write.stderr).toBe("Success");
    expect((await readDevice(pod, streamBytes)).equals(original)).toBe(true);
    expect(statSync(await imagePathOf("origin")).size).toBe(32 * 2 ** 20);
  });

  it("snapshots into a ready content; a restore holds the snapshot's bytes and not later writes", async () => {
    await createSnapshot("origin-snap", "origin");
    const status = await readySnapshot("origin-snap");
    expect(status.restoreSize).toBe("32Mi");
    const content = await custom.getClusterCustomObject({
      group: "snapshot.storage.k8s.io",
      version: "v1",
      plural: "volumesnapshotcontents",
      name: status.boundVolumeSnapshotContentName as string,
    });
    expect(content.status).toMatchObject({ readyToUse: true, restoreSize: 32 * 2 ** 20 });
    expect(content.spec.sourceVolumeMode).toBe("Block");

    const overwrite = await execInPod(kc, { namespace, name: "writer", container: "main" }, [
      "sh",
      "-c",
      'head -c 1048576 /dev/urandom | dd of="$KUBEFERRY_DEVICE" bs=1M conv=notrunc status=none',
    ]);
    expect(overwrite.status?.status, overwrite.stderr).toBe("Success");
    expect(
      (await readDevice({ namespace, name: "writer", container: "main" }, streamBytes)).equals(original),
    ).toBe(false);

    await createClaim("restored", "Block", { fromSnapshot: "origin-snap" });
    await boundClaim("restored");
    const reader = await podUsing("reader", "restored", "Block");
    expect((await readDevice(reader, streamBytes)).equals(original)).toBe(true);
  });

  it("refuses a Block restore of a Filesystem snapshot until the content allows the mode change", async () => {
    await createClaim("files", "Filesystem");
    await boundClaim("files");
    const app = await podUsing("app", "files", "Filesystem");
    const write = await execInPod(kc, app, [
      "sh",
      "-c",
      'mkdir -p "$KUBEFERRY_MOUNT/db" && echo rows > "$KUBEFERRY_MOUNT/db/table"',
    ]);
    expect(write.status?.status, write.stderr).toBe("Success");
    await createSnapshot("files-snap", "files");
    const { boundVolumeSnapshotContentName: contentName } = await readySnapshot("files-snap");

    await createClaim("files-as-block", "Block", { fromSnapshot: "files-snap" });
    await waitFor("the refusal to be recorded as an event", async () => {
      const events = await core.listNamespacedEvent({
        namespace,
        fieldSelector: "involvedObject.name=files-as-block,reason=ProvisioningFailed",
      });
      return events.items.some((event) => event.message?.includes(allowVolumeModeChangeAnnotation));
    });
    const refused = await core.readNamespacedPersistentVolumeClaim({ namespace, name: "files-as-block" });
    expect(refused.status?.phase).toBe("Pending");

    await custom.patchClusterCustomObject(
      {
        group: "snapshot.storage.k8s.io",
        version: "v1",
        plural: "volumesnapshotcontents",
        name: contentName as string,
        body: { metadata: { annotations: { [allowVolumeModeChangeAnnotation]: "true" } } },
      },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    await boundClaim("files-as-block");
    const blockReader = await podUsing("block-reader", "files-as-block", "Block");
    const listing = await execInPod(kc, blockReader, ["sh", "-c", 'tar -tf "$KUBEFERRY_DEVICE"']);
    expect(listing.stdout.toString()).toContain("./db/table");

    await createClaim("files-restored", "Filesystem", { fromSnapshot: "files-snap" });
    await boundClaim("files-restored");
    const restoredApp = await podUsing("restored-app", "files-restored", "Filesystem");
    const read = await execInPod(kc, restoredApp, ["sh", "-c", 'cat "$KUBEFERRY_MOUNT/db/table"']);
    expect(read.stdout.toString()).toBe("rows\n");
  });

  it("binds a PV re-created on an existing volume handle (kubeferry's rebind) without provisioning another", async () => {
    await createClaim("incoming", "Block", { storageClassName: cluster.classes.retain });
    const incoming = await boundClaim("incoming");
    const loader = await podUsing("loader", "incoming", "Block");
    const write = await execInPod(kc, loader, [
      "sh",
      "-c",
      'd=$(mktemp -d) && echo moved > "$d/greeting" && tar -cf - -C "$d" . | dd of="$KUBEFERRY_DEVICE" conv=notrunc status=none',
    ]);
    expect(write.status?.status, write.stderr).toBe("Success");
    const oldPv = await core.readPersistentVolume({ name: incoming.spec?.volumeName as string });
    await core.deleteNamespacedPod({ namespace, name: "loader", gracePeriodSeconds: 0 });
    await core.deleteNamespacedPersistentVolumeClaim({ namespace, name: "incoming" });
    await waitFor("the Retain volume to be Released", async () => {
      const pv = await core.readPersistentVolume({ name: oldPv.metadata?.name as string });
      return pv.status?.phase === "Released";
    });
    await core.deletePersistentVolume({ name: oldPv.metadata?.name as string });

    await core.createPersistentVolume({
      body: {
        metadata: { name: "rebound" },
        spec: {
          ...oldPv.spec,
          volumeMode: "Filesystem",
          claimRef: { apiVersion: "v1", kind: "PersistentVolumeClaim", namespace, name: "final" },
        },
      },
    });
    await createClaim("final", "Filesystem", { storageClassName: cluster.classes.retain });
    expect((await boundClaim("final")).spec?.volumeName).toBe("rebound");
    const app = await podUsing("final-app", "final", "Filesystem");
    const read = await execInPod(kc, app, ["sh", "-c", 'cat "$KUBEFERRY_MOUNT/greeting"']);
    expect(read.stdout.toString()).toBe("moved\n");
    const volumes = await core.listPersistentVolume();
    expect(volumes.items.filter((pv) => pv.spec?.claimRef?.name === "final")).toHaveLength(1);
  });

  it("deletes the file of a released Delete volume and keeps a Retain one", async () => {
    await createClaim("scratch", "Block");
    await createClaim("kept", "Block", { storageClassName: cluster.classes.retain });
    const scratchImage = await imagePathOf("scratch");
    const keptClaim = await boundClaim("kept");
    const keptImage = await imagePathOf("kept");
    await core.deleteNamespacedPersistentVolumeClaim({ namespace, name: "scratch" });
    await core.deleteNamespacedPersistentVolumeClaim({ namespace, name: "kept" });
    await waitFor("the Delete volume's file to be removed", async () => !existsSync(scratchImage));
    await waitFor("the Retain volume to be Released", async () => {
      const pv = await core.readPersistentVolume({ name: keptClaim.spec?.volumeName as string });
      return pv.status?.phase === "Released";
    });
    expect(existsSync(keptImage)).toBe(true);
  });

  it("removes the content and its data when a snapshot with deletionPolicy Delete is deleted", async () => {
    const { boundVolumeSnapshotContentName: contentName } = await readySnapshot("origin-snap");
    const content = await custom.getClusterCustomObject({
      group: "snapshot.storage.k8s.io",
      version: "v1",
      plural: "volumesnapshotcontents",
      name: contentName as string,
    });
    const snapshotImage = `${cluster.workDir}/volumes/${content.status.snapshotHandle}.img`;
    expect(readFileSync(snapshotImage).subarray(0, streamBytes).equals(original)).toBe(true);
    await custom.deleteNamespacedCustomObject({
      group: "snapshot.storage.k8s.io",
      version: "v1",
      namespace,
      plural: "volumesnapshots",
      name: "origin-snap",
    });
    await waitFor("the snapshot data to be removed", async () => !existsSync(snapshotImage));
    await waitFor("the content to be deleted", async () => {
      const contents = await custom.listClusterCustomObject({
        group: "snapshot.storage.k8s.io",
        version: "v1",
        plural: "volumesnapshotcontents",
      });
      return !contents.items.some(
        (item: { metadata: { name: string } }) => item.metadata.name === contentName,
      );
    });
  });
});
