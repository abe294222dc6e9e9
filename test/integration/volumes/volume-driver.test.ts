import type { V1PersistentVolume, V1PersistentVolumeClaim } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ClusterClient,
  createClusterClient,
} from "../../../functions/lib/kube/client/cluster-client.ts";
import {
  createOrGet,
  deleteIfPresent,
  getObject,
  paths,
  systemClock,
} from "../../../functions/lib/volumes/kube-calls.ts";
import { snapshotClassFor } from "../../../functions/lib/volumes/snapshot-class.ts";
import { cutSnapshots } from "../../../functions/lib/volumes/snapshots.ts";
import { volumeTransports } from "../../../functions/lib/volumes/volume-transport.ts";
import { type LocalClusters, startClusters, waitFor } from "../../env/clusters.ts";
import { blockDriver } from "../../env/manifests/storage-objects.ts";

// EKS's default class is in-tree: provisioner kubernetes.io/aws-ebs, served by ebs.csi.aws.com
// through CSI migration, so the driver must come from the volume, never from the class.
const namespace = "legacy";
let clusters: LocalClusters;
let client: ClusterClient;

beforeAll(async () => {
  clusters = await startClusters(["source"]);
  client = await createClusterClient(clusters.get("source").kubeConfig(), { name: "source" });
  await createOrGet(client, "/api/v1/namespaces", { metadata: { name: namespace } });
});

afterAll(async () => {
  await clusters?.stop();
});

/**
 * A claim bound to a PV shaped as CSI migration leaves an in-tree `gp2` volume: the class names the
 * in-tree plugin, the PV carries the CSI block and the migrated-to annotation. The volume behind it
 * is a real one of the test driver (provisioned on a Retain class, then released), so that a
 * snapshot of it can really be cut.
 */
async function migratedGp2Claim(name: string): Promise<void> {
  const cluster = clusters.get("source");
  await createOrGet(client, "/apis/storage.k8s.io/v1/storageclasses", {
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: { name: "gp2" },
    provisioner: "kubernetes.io/aws-ebs",
    parameters: { type: "gp2", fsType: "ext4" },
    volumeBindingMode: "WaitForFirstConsumer",
  });
  await createOrGet(client, paths.pvcs(namespace), {
    metadata: { name: `${name}-seed`, namespace },
    spec: {
      accessModes: ["ReadWriteOnce"],
      volumeMode: "Block",
      storageClassName: cluster.classes.retain,
      resources: { requests: { storage: "8Mi" } },
    },
  });
  let seeded: V1PersistentVolume | undefined;
  await waitFor("the seed claim to bind", async () => {
    const claim = await getObject<V1PersistentVolumeClaim>(client, paths.pvc(namespace, `${name}-seed`));
    const volumeName = claim?.status?.phase === "Bound" ? claim.spec?.volumeName : undefined;
    seeded = volumeName ? await getObject<V1PersistentVolume>(client, paths.pv(volumeName)) : undefined;
    return seeded !== undefined;
  });
  await deleteIfPresent(client, paths.pvc(namespace, `${name}-seed`));
  await createOrGet(client, paths.pvs(), {
    metadata: {
      name: `${name}-gp2`,
      annotations: {
        "pv.kubernetes.io/migrated-to": blockDriver,
        "pv.kubernetes.io/provisioned-by": "kubernetes.io/aws-ebs",
      },
    },
    spec: {
      accessModes: ["ReadWriteOnce"],
      volumeMode: "Block",
      capacity: { storage: "8Mi" },
      storageClassName: "gp2",
      persistentVolumeReclaimPolicy: "Delete",
      csi: seeded?.spec?.csi,
      claimRef: { namespace, name },
    },
  });
  await createOrGet(client, paths.pvcs(namespace), {
    metadata: { name, namespace },
    spec: {
      accessModes: ["ReadWriteOnce"],
      volumeMode: "Block",
      storageClassName: "gp2",
      volumeName: `${name}-gp2`,
      resources: { requests: { storage: "8Mi" } },
    },
  });
  await waitFor(`claim ${name} to bind to its gp2-shaped volume`, async () => {
    const claim = await getObject<V1PersistentVolumeClaim>(client, paths.pvc(namespace, name));
    return claim?.status?.phase === "Bound";
  });
}

describe("the CSI driver of a volume", () => {
  it("of a PV shaped like EKS's migrated in-tree gp2 resolves to its CSI driver's snapshot class, and a snapshot is cut", async () => {
    await migratedGp2Claim("data");
    const snapshotClass = await snapshotClassFor(client, namespace, "data");
    expect(snapshotClass).toBe(clusters.get("source").classes.snapshot);
    const [cut] = await cutSnapshots(
      { client, clock: systemClock },
      { runId: "run-gp2", namespace, pvcs: ["data"], snapshotClass },
    );
    expect(cut?.pvc).toBe("data");
  }, 180_000);

  it("of an in-tree PV with only the migrated-to annotation resolves the same way", async () => {
    await createOrGet(client, paths.pvs(), {
      metadata: { name: "intree-gp2", annotations: { "pv.kubernetes.io/migrated-to": blockDriver } },
      spec: {
        accessModes: ["ReadWriteOnce"],
        capacity: { storage: "1Gi" },
        storageClassName: "gp2",
        awsElasticBlockStore: { volumeID: "vol-0123456789abcdef0", fsType: "ext4" },
        claimRef: { namespace, name: "intree" },
      },
    });
    await createOrGet(client, paths.pvcs(namespace), {
      metadata: { name: "intree", namespace },
      spec: {
        accessModes: ["ReadWriteOnce"],
        storageClassName: "gp2",
        volumeName: "intree-gp2",
        resources: { requests: { storage: "1Gi" } },
      },
    });
    await waitFor("claim intree to bind", async () => {
      const claim = await getObject<V1PersistentVolumeClaim>(client, paths.pvc(namespace, "intree"));
      return claim?.status?.phase === "Bound";
    });
    expect(await snapshotClassFor(client, namespace, "intree")).toBe(clusters.get("source").classes.snapshot);
  }, 120_000);

  it("decides each selected volume's transport before anything moves, with the reason", async () => {
    // A bound local-path volume (k3s' default: no snapshots) and a claim nothing consumes yet.
    await createOrGet(client, paths.pvs(), {
      metadata: { name: "host-folder" },
      spec: {
        accessModes: ["ReadWriteOnce"],
        capacity: { storage: "1Gi" },
        storageClassName: "local-path",
        hostPath: { path: "/var/lib/kubeferry-test/host-folder" },
        claimRef: { namespace, name: "cache" },
      },
    });
    for (const [name, volumeName] of [
      ["cache", "host-folder"],
      ["later", undefined],
    ] as const) {
      await createOrGet(client, paths.pvcs(namespace), {
        metadata: { name, namespace },
        spec: {
          accessModes: ["ReadWriteOnce"],
          storageClassName: "local-path",
          ...(volumeName ? { volumeName } : {}),
          resources: { requests: { storage: "1Gi" } },
        },
      });
    }
    await waitFor("claim cache to bind", async () => {
      const claim = await getObject<V1PersistentVolumeClaim>(client, paths.pvc(namespace, "cache"));
      return claim?.status?.phase === "Bound";
    });
    const transports = await volumeTransports(client, [
      { namespace, pvc: "data" },
      { namespace, pvc: "cache" },
      { namespace, pvc: "later" },
    ]);
    expect(transports).toEqual([
      {
        namespace,
        pvc: "data",
        transport: "block",
        snapshotClass: clusters.get("source").classes.snapshot,
        reason: expect.stringMatching(/block copy of a snapshot of class/),
      },
      {
        namespace,
        pvc: "cache",
        transport: "file",
        reason: expect.stringMatching(
          /^storage class local-path, driver rancher.io\/local-path: .*no VolumeSnapshotClass, so the live volume is read between the hooks/,
        ),
      },
      { namespace, pvc: "later", transport: "none", reason: "it is Pending, not Bound" },
    ]);
    // Asked for a block copy, the local-path volume has none, and says why.
    const blockOnly = await volumeTransports(client, [{ namespace, pvc: "cache" }], { preference: "block" });
    expect(blockOnly[0]).toMatchObject({
      transport: "none",
      reason: expect.stringMatching(/use volumeTransport auto or file/),
    });
    // Asked for the file transport, a snapshot-capable volume is read from its snapshot, file by file.
    const fileCopy = await volumeTransports(client, [{ namespace, pvc: "data" }], { preference: "file" });
    expect(fileCopy[0]).toMatchObject({
      transport: "file",
      snapshotClass: clusters.get("source").classes.snapshot,
    });
    // A driver the pair names as file-only moves file by file even with snapshots.
    const listed = await volumeTransports(client, [{ namespace, pvc: "data" }], {
      preference: "auto",
      fileDrivers: [blockDriver],
    });
    expect(listed[0]).toMatchObject({
      transport: "file",
      reason: expect.stringMatching(/serves filesystems only/),
    });
  }, 120_000);
});
