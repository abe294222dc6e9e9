import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  StorageV1Api,
  setHeaderOptions,
  type V1PersistentVolume,
  type V1PersistentVolumeClaim,
  type V1Pod,
  type V1StorageClass,
  Watch,
} from "@kubernetes/client-node";
import { simulatedDriver } from "./manifests/cluster-objects.ts";
import { bytesToQuantity, quantityToBytes } from "./quantity.ts";
import { VolumeFiles } from "./volume-files.ts";

// A CSI-like controller for the driver sim.csi.kubeferry.dev, doing what external-provisioner,
// external-snapshotter and a node plugin would do, with image files on the host as volumes. It is
// level-triggered: every watch event (and a periodic resync) runs one full reconcile of all objects,
// which keeps it simple and makes a missed event harmless.

export const allowVolumeModeChangeAnnotation = "snapshot.storage.kubernetes.io/allow-volume-mode-change";

export interface StorageSimulator {
  /** Folder holding the volume images (`<handle>.img`) and Filesystem folders (`<handle>.mount`). */
  volumesDir: string;
  /** Host path of the image file behind a PV's CSI volume handle. */
  imagePath(volumeHandle: string): string;
  stop(): Promise<void>;
}

export interface SimulatedCluster {
  name: string;
  workDir: string;
  kubeConfig(): KubeConfig;
}

interface SnapshotMeta {
  name: string;
  namespace?: string;
  uid: string;
  annotations?: Record<string, string>;
  deletionTimestamp?: string;
}

interface VolumeSnapshot {
  metadata: SnapshotMeta;
  spec: {
    source: { persistentVolumeClaimName?: string; volumeSnapshotContentName?: string };
    volumeSnapshotClassName?: string;
  };
  status?: { boundVolumeSnapshotContentName?: string; readyToUse?: boolean };
}

interface VolumeSnapshotContent {
  metadata: SnapshotMeta;
  spec: {
    deletionPolicy: "Delete" | "Retain";
    driver: string;
    source: { snapshotHandle?: string; volumeHandle?: string };
    sourceVolumeMode?: "Block" | "Filesystem";
    volumeSnapshotRef: { name?: string; namespace?: string; uid?: string };
  };
  status?: { snapshotHandle?: string; readyToUse?: boolean; restoreSize?: number };
}

interface VolumeSnapshotClass {
  metadata: SnapshotMeta;
  driver: string;
  deletionPolicy: "Delete" | "Retain";
}

interface World {
  storageClasses: Map<string, V1StorageClass>;
  snapshotClasses: VolumeSnapshotClass[];
  volumes: V1PersistentVolume[];
  claims: V1PersistentVolumeClaim[];
  snapshots: VolumeSnapshot[];
  contents: VolumeSnapshotContent[];
  pods: V1Pod[];
}

const snapshotGroup = "snapshot.storage.k8s.io";
const fieldManager = "kubeferry-storage-simulator";
const resyncMs = 3_000;
const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

const watchedPaths = [
  "/api/v1/persistentvolumeclaims",
  "/api/v1/persistentvolumes",
  "/api/v1/pods",
  `/apis/${snapshotGroup}/v1/volumesnapshots`,
  `/apis/${snapshotGroup}/v1/volumesnapshotcontents`,
];

/** Starts the simulator for one cluster; volumes live in `<workDir>/volumes`. */
export function startStorageSimulator(cluster: SimulatedCluster): StorageSimulator {
  const simulator = new Simulator(cluster);
  simulator.start();
  return {
    volumesDir: simulator.files.dir,
    imagePath: (handle) => simulator.files.imagePath(handle),
    stop: () => simulator.stop(),
  };
}

class Simulator {
  readonly files: VolumeFiles;
  private readonly core: CoreV1Api;
  private readonly storage: StorageV1Api;
  private readonly custom: CustomObjectsApi;
  private readonly objects: KubernetesObjectApi;
  private readonly watch: Watch;
  private readonly watches: AbortController[] = [];
  private running = true;
  private dirty = true;
  private wake: () => void = () => {};
  private loop: Promise<void> = Promise.resolve();
  /** Warnings already recorded as Events, so each is reported once. */
  private readonly reported = new Set<string>();
  /** Exec specs already applied, by namespace/pod uid. */
  private readonly appliedExecs = new Map<string, string>();

  constructor(private readonly cluster: SimulatedCluster) {
    const kc = cluster.kubeConfig();
    this.files = new VolumeFiles(join(cluster.workDir, "volumes"));
    this.core = kc.makeApiClient(CoreV1Api);
    this.storage = kc.makeApiClient(StorageV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.objects = KubernetesObjectApi.makeApiClient(kc);
    this.watch = new Watch(kc);
  }

  start(): void {
    for (const path of watchedPaths) this.startWatch(path);
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const controller of this.watches) controller.abort();
    this.wake();
    await this.loop;
  }

  private startWatch(path: string): void {
    if (!this.running) return;
    this.watch
      .watch(
        path,
        {},
        () => this.markDirty(),
        () => {
          // Watches end on timeouts and server restarts; the periodic resync covers the gap.
          if (this.running) setTimeout(() => this.startWatch(path), 1_000);
        },
      )
      .then(
        (controller) => {
          if (this.running) this.watches.push(controller);
          else controller.abort();
        },
        () => {
          if (this.running) setTimeout(() => this.startWatch(path), 1_000);
        },
      );
  }

  private markDirty(): void {
    this.dirty = true;
    this.wake();
  }

  private async run(): Promise<void> {
    while (this.running) {
      if (!this.dirty) {
        await Promise.race([new Promise<void>((resolve) => (this.wake = resolve)), sleep(resyncMs)]);
        if (!this.running) return;
      }
      this.dirty = false;
      try {
        await this.reconcile();
      } catch (error) {
        if (this.running) console.error(`[storage-simulator ${this.cluster.name}] reconcile failed:`, error);
      }
    }
  }

  private async reconcile(): Promise<void> {
    const world = await this.observe();
    await this.provisionClaims(world);
    await this.reclaimReleasedVolumes(world);
    await this.takeSnapshots(world);
    await this.deleteOrphanedContents(world);
    await this.writeExecs(world);
  }

  private async observe(): Promise<World> {
    const [classes, snapshotClasses, volumes, claims, snapshots, contents, pods] = await Promise.all([
      this.storage.listStorageClass(),
      this.custom.listClusterCustomObject({
        group: snapshotGroup,
        version: "v1",
        plural: "volumesnapshotclasses",
      }),
      this.core.listPersistentVolume(),
      this.core.listPersistentVolumeClaimForAllNamespaces(),
      this.custom.listCustomObjectForAllNamespaces({
        group: snapshotGroup,
        version: "v1",
        resourcePlural: "volumesnapshots",
      }),
      this.custom.listClusterCustomObject({
        group: snapshotGroup,
        version: "v1",
        plural: "volumesnapshotcontents",
      }),
      this.core.listPodForAllNamespaces(),
    ]);
    return {
      storageClasses: new Map(
        classes.items
          .filter((sc) => sc.provisioner === simulatedDriver)
          .map((sc) => [sc.metadata?.name as string, sc]),
      ),
      snapshotClasses: (snapshotClasses.items as VolumeSnapshotClass[]).filter(
        (c) => c.driver === simulatedDriver,
      ),
      volumes: volumes.items,
      claims: claims.items,
      snapshots: snapshots.items as VolumeSnapshot[],
      contents: contents.items as VolumeSnapshotContent[],
      pods: pods.items,
    };
  }

  // --- provisioning -------------------------------------------------------------------------

  private async provisionClaims(world: World): Promise<void> {
    for (const claim of world.claims) {
      const storageClass = world.storageClasses.get(claim.spec?.storageClassName ?? "");
      if (!storageClass || claim.spec?.volumeName || claim.metadata?.deletionTimestamp) continue;
      if (claim.status?.phase !== "Pending") continue;
      // As external-provisioner: act only once the PV controller has found no existing PV for the
      // claim (e.g. one pre-bound to it by kubeferry's restore) and handed it to this driver.
      if (claim.metadata?.annotations?.["volume.kubernetes.io/storage-provisioner"] !== simulatedDriver)
        continue;
      const uid = claim.metadata?.uid as string;
      if (world.volumes.some((pv) => pv.spec?.claimRef?.uid === uid)) continue;
      await this.provision(world, claim, storageClass);
    }
  }

  private async provision(
    world: World,
    claim: V1PersistentVolumeClaim,
    storageClass: V1StorageClass,
  ): Promise<void> {
    const namespace = claim.metadata?.namespace as string;
    const uid = claim.metadata?.uid as string;
    const handle = `pvc-${uid}`;
    const request = claim.spec?.resources?.requests?.storage;
    if (!request) {
      await this.warn(claim, "ProvisioningFailed", "the claim requests no storage size");
      return;
    }
    const sizeBytes = quantityToBytes(String(request));
    const volumeMode = claim.spec?.volumeMode ?? "Filesystem";
    const source = claim.spec?.dataSourceRef ?? claim.spec?.dataSource;
    if (source) {
      if (source.kind !== "VolumeSnapshot" || source.apiGroup !== snapshotGroup) {
        await this.warn(
          claim,
          "ProvisioningFailed",
          `data source kind ${source.kind} is not supported by ${simulatedDriver}`,
        );
        return;
      }
      const content = this.readyContentOf(world, namespace, source.name);
      if (!content) {
        await this.warn(
          claim,
          "Provisioning",
          `waiting for VolumeSnapshot ${namespace}/${source.name} to be ready`,
        );
        return;
      }
      const sourceMode = content.spec.sourceVolumeMode ?? "Filesystem";
      if (
        sourceMode !== volumeMode &&
        content.metadata.annotations?.[allowVolumeModeChangeAnnotation] !== "true"
      ) {
        await this.warn(
          claim,
          "ProvisioningFailed",
          `requested volume mode ${volumeMode} differs from the snapshot's ${sourceMode}; set the ` +
            `annotation ${allowVolumeModeChangeAnnotation}: "true" on VolumeSnapshotContent ${content.metadata.name} to allow it`,
        );
        return;
      }
      const restoreSize = content.status?.restoreSize ?? 0;
      if (sizeBytes < restoreSize) {
        await this.warn(
          claim,
          "ProvisioningFailed",
          `requested size ${sizeBytes} bytes is smaller than the snapshot's restoreSize ${restoreSize}; request at least that much`,
        );
        return;
      }
      await this.files.createCopy(handle, content.status?.snapshotHandle as string, sizeBytes);
    } else {
      await this.files.createEmpty(handle, sizeBytes);
    }
    await this.core
      .createPersistentVolume({
        body: {
          apiVersion: "v1",
          kind: "PersistentVolume",
          metadata: { name: handle, annotations: { "pv.kubernetes.io/provisioned-by": simulatedDriver } },
          spec: {
            capacity: { storage: String(request) },
            accessModes: claim.spec?.accessModes ?? ["ReadWriteOnce"],
            volumeMode,
            persistentVolumeReclaimPolicy: storageClass.reclaimPolicy ?? "Delete",
            storageClassName: storageClass.metadata?.name as string,
            claimRef: {
              apiVersion: "v1",
              kind: "PersistentVolumeClaim",
              namespace,
              name: claim.metadata?.name,
              uid,
            },
            csi: { driver: simulatedDriver, volumeHandle: handle },
          },
        },
      })
      .catch(ignoreConflict);
  }

  /** The bound, ready content of a snapshot, or undefined while it is not ready. */
  private readyContentOf(
    world: World,
    namespace: string,
    snapshotName: string,
  ): VolumeSnapshotContent | undefined {
    const snapshot = world.snapshots.find(
      (s) => s.metadata.namespace === namespace && s.metadata.name === snapshotName,
    );
    const contentName = snapshot?.status?.readyToUse
      ? snapshot.status.boundVolumeSnapshotContentName
      : undefined;
    const content = world.contents.find((c) => c.metadata.name === contentName);
    return content?.status?.readyToUse && content.status.snapshotHandle ? content : undefined;
  }

  private async reclaimReleasedVolumes(world: World): Promise<void> {
    for (const pv of world.volumes) {
      const handle = pv.spec?.csi?.driver === simulatedDriver ? pv.spec.csi.volumeHandle : undefined;
      if (!handle || pv.status?.phase !== "Released" || pv.spec?.persistentVolumeReclaimPolicy !== "Delete")
        continue;
      // kubeferry rebinds volumes by re-creating PVs on the same handle: never delete shared data.
      const shared = world.volumes.some((other) => other !== pv && other.spec?.csi?.volumeHandle === handle);
      if (!shared) await this.files.remove(handle);
      await this.core.deletePersistentVolume({ name: pv.metadata?.name as string }).catch(ignoreNotFound);
    }
  }

  // --- snapshots ------------------------------------------------------------------------------

  private async takeSnapshots(world: World): Promise<void> {
    for (const snapshot of world.snapshots) {
      if (snapshot.status?.readyToUse || snapshot.metadata.deletionTimestamp) continue;
      const snapshotClass = this.classOf(world, snapshot);
      if (!snapshotClass) continue;
      if (snapshot.spec.source.persistentVolumeClaimName) {
        await this.snapshotClaim(world, snapshot, snapshotClass);
      } else {
        await this.bindPreprovisioned(world, snapshot);
      }
    }
  }

  private classOf(world: World, snapshot: VolumeSnapshot): VolumeSnapshotClass | undefined {
    const name = snapshot.spec.volumeSnapshotClassName;
    if (name) return world.snapshotClasses.find((c) => c.metadata.name === name);
    return world.snapshotClasses.find(
      (c) => c.metadata.annotations?.["snapshot.storage.kubernetes.io/is-default-class"] === "true",
    );
  }

  private async snapshotClaim(world: World, snapshot: VolumeSnapshot, snapshotClass: VolumeSnapshotClass) {
    const namespace = snapshot.metadata.namespace as string;
    const claimName = snapshot.spec.source.persistentVolumeClaimName as string;
    const claim = world.claims.find(
      (c) => c.metadata?.namespace === namespace && c.metadata?.name === claimName,
    );
    const pv = world.volumes.find((v) => v.metadata?.name === claim?.spec?.volumeName);
    const volumeHandle = pv?.spec?.csi?.driver === simulatedDriver ? pv.spec.csi.volumeHandle : undefined;
    if (claim?.status?.phase !== "Bound" || !pv || !volumeHandle) {
      await this.setSnapshotError(
        snapshot,
        `PersistentVolumeClaim ${namespace}/${claimName} is not bound to a ${simulatedDriver} volume`,
      );
      return;
    }
    const contentName = `snapcontent-${snapshot.metadata.uid}`;
    const snapshotHandle = `snapshot-${snapshot.metadata.uid}`;
    const sourceVolumeMode = pv.spec?.volumeMode ?? "Filesystem";
    let content = world.contents.find((c) => c.metadata.name === contentName);
    if (!content) {
      if (sourceVolumeMode === "Filesystem") await this.files.packFolderIfChanged(volumeHandle);
      await this.files.createCopy(snapshotHandle, volumeHandle, 0);
      content = (await this.custom
        .createClusterCustomObject({
          group: snapshotGroup,
          version: "v1",
          plural: "volumesnapshotcontents",
          body: {
            apiVersion: `${snapshotGroup}/v1`,
            kind: "VolumeSnapshotContent",
            metadata: { name: contentName },
            spec: {
              deletionPolicy: snapshotClass.deletionPolicy,
              driver: simulatedDriver,
              source: { volumeHandle },
              sourceVolumeMode,
              volumeSnapshotClassName: snapshotClass.metadata.name,
              volumeSnapshotRef: {
                apiVersion: `${snapshotGroup}/v1`,
                kind: "VolumeSnapshot",
                name: snapshot.metadata.name,
                namespace,
                uid: snapshot.metadata.uid,
              },
            },
          },
        })
        .catch(ignoreConflict)) as VolumeSnapshotContent | undefined;
      if (!content) return;
    }
    await this.markReady(snapshot, content, snapshotHandle);
  }

  /** A snapshot naming an existing content (statically provisioned, e.g. imported). */
  private async bindPreprovisioned(world: World, snapshot: VolumeSnapshot): Promise<void> {
    const contentName = snapshot.spec.source.volumeSnapshotContentName;
    const content = world.contents.find((c) => c.metadata.name === contentName);
    const snapshotHandle = content?.spec.source.snapshotHandle ?? content?.status?.snapshotHandle;
    if (!content || content.spec.driver !== simulatedDriver || !snapshotHandle) return;
    if (!(await this.files.exists(snapshotHandle))) {
      await this.setSnapshotError(
        snapshot,
        `snapshot handle ${snapshotHandle} has no data in ${this.files.dir}`,
      );
      return;
    }
    const ref = content.spec.volumeSnapshotRef;
    if (ref.name !== snapshot.metadata.name || ref.namespace !== snapshot.metadata.namespace) {
      await this.setSnapshotError(
        snapshot,
        `VolumeSnapshotContent ${contentName} references another snapshot`,
      );
      return;
    }
    if (ref.uid !== snapshot.metadata.uid) {
      await this.custom.patchClusterCustomObject(
        {
          group: snapshotGroup,
          version: "v1",
          plural: "volumesnapshotcontents",
          name: content.metadata.name,
          body: { spec: { volumeSnapshotRef: { ...ref, uid: snapshot.metadata.uid } } },
        },
        mergePatch,
      );
    }
    await this.markReady(snapshot, content, snapshotHandle);
  }

  private async markReady(snapshot: VolumeSnapshot, content: VolumeSnapshotContent, snapshotHandle: string) {
    const restoreSize = await this.files.sizeOf(snapshotHandle);
    const creationTime = new Date();
    await this.custom.patchClusterCustomObjectStatus(
      {
        group: snapshotGroup,
        version: "v1",
        plural: "volumesnapshotcontents",
        name: content.metadata.name,
        body: {
          status: {
            snapshotHandle,
            readyToUse: true,
            restoreSize,
            creationTime: creationTime.getTime() * 1_000_000,
          },
        },
      },
      mergePatch,
    );
    await this.custom.patchNamespacedCustomObjectStatus(
      {
        group: snapshotGroup,
        version: "v1",
        plural: "volumesnapshots",
        namespace: snapshot.metadata.namespace as string,
        name: snapshot.metadata.name,
        body: {
          status: {
            boundVolumeSnapshotContentName: content.metadata.name,
            creationTime: creationTime.toISOString(),
            readyToUse: true,
            restoreSize: bytesToQuantity(restoreSize),
            error: null,
          },
        },
      },
      mergePatch,
    );
  }

  private async setSnapshotError(snapshot: VolumeSnapshot, message: string): Promise<void> {
    await this.custom.patchNamespacedCustomObjectStatus(
      {
        group: snapshotGroup,
        version: "v1",
        plural: "volumesnapshots",
        namespace: snapshot.metadata.namespace as string,
        name: snapshot.metadata.name,
        body: { status: { readyToUse: false, error: { message, time: new Date().toISOString() } } },
      },
      mergePatch,
    );
  }

  /** Contents whose snapshot is gone follow their deletionPolicy: Delete removes data and object. */
  private async deleteOrphanedContents(world: World): Promise<void> {
    for (const content of world.contents) {
      const ref = content.spec.volumeSnapshotRef;
      if (content.spec.driver !== simulatedDriver || content.spec.deletionPolicy !== "Delete" || !ref.uid)
        continue;
      if (world.snapshots.some((s) => s.metadata.uid === ref.uid)) continue;
      const snapshotHandle = content.status?.snapshotHandle ?? content.spec.source.snapshotHandle;
      if (snapshotHandle) await this.files.remove(snapshotHandle);
      await this.custom
        .deleteClusterCustomObject({
          group: snapshotGroup,
          version: "v1",
          plural: "volumesnapshotcontents",
          name: content.metadata.name,
        })
        .catch(ignoreNotFound);
    }
  }

  // --- pods -----------------------------------------------------------------------------------

  /**
   * kwok runs `exec` commands on the host; an Exec named after the pod gives each container the
   * host paths of its simulated volumes: KUBEFERRY_DEVICE (first Block volume, the image file) and
   * KUBEFERRY_MOUNT (first Filesystem volume, a folder).
   */
  private async writeExecs(world: World): Promise<void> {
    for (const pod of world.pods) {
      const phase = pod.status?.phase;
      if (phase === "Succeeded" || phase === "Failed" || pod.metadata?.deletionTimestamp) continue;
      const handles = this.volumeHandlesOf(world, pod);
      if (handles.size === 0) continue;
      const execs = [];
      for (const container of pod.spec?.containers ?? []) {
        const envs: { name: string; value: string }[] = [];
        const device = container.volumeDevices?.find((d) => handles.has(d.name));
        if (device)
          envs.push({
            name: "KUBEFERRY_DEVICE",
            value: this.files.imagePath(handles.get(device.name) as string),
          });
        const mount = container.volumeMounts?.find((m) => handles.has(m.name));
        if (mount) {
          const folder = await this.files.unpackImageIfChanged(handles.get(mount.name) as string);
          envs.push({ name: "KUBEFERRY_MOUNT", value: folder });
        }
        execs.push({ containers: [container.name], local: { envs } });
      }
      await this.applyExec(pod, execs);
    }
  }

  /** Pod volume name → volume handle, for the pod's claims bound to simulated volumes. */
  private volumeHandlesOf(world: World, pod: V1Pod): Map<string, string> {
    const handles = new Map<string, string>();
    for (const volume of pod.spec?.volumes ?? []) {
      const claimName = volume.persistentVolumeClaim?.claimName;
      if (!claimName) continue;
      const claim = world.claims.find(
        (c) => c.metadata?.namespace === pod.metadata?.namespace && c.metadata?.name === claimName,
      );
      const pv = world.volumes.find((v) => v.metadata?.name === claim?.spec?.volumeName);
      if (pv?.spec?.csi?.driver === simulatedDriver) handles.set(volume.name, pv.spec.csi.volumeHandle);
    }
    return handles;
  }

  private async applyExec(pod: V1Pod, execs: unknown[]): Promise<void> {
    const key = `${pod.metadata?.namespace}/${pod.metadata?.uid}`;
    const spec = JSON.stringify(execs);
    if (this.appliedExecs.get(key) === spec) return;
    await this.objects.patch(
      {
        apiVersion: "kwok.x-k8s.io/v1alpha1",
        kind: "Exec",
        metadata: {
          name: pod.metadata?.name as string,
          namespace: pod.metadata?.namespace as string,
          // Garbage-collected with its pod.
          ownerReferences: [
            {
              apiVersion: "v1",
              kind: "Pod",
              name: pod.metadata?.name as string,
              uid: pod.metadata?.uid as string,
            },
          ],
        },
        spec: { execs },
      } as never,
      undefined,
      undefined,
      fieldManager,
      true,
      PatchStrategy.ServerSideApply,
    );
    this.appliedExecs.set(key, spec);
  }

  // --- events ---------------------------------------------------------------------------------

  /** Records a warning on the claim once, as `kubectl describe pvc` would show it. */
  private async warn(claim: V1PersistentVolumeClaim, reason: string, message: string): Promise<void> {
    const key = `${claim.metadata?.uid}/${reason}/${message}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    const now = new Date();
    await this.core.createNamespacedEvent({
      namespace: claim.metadata?.namespace as string,
      body: {
        metadata: { generateName: `${claim.metadata?.name}.` },
        involvedObject: {
          apiVersion: "v1",
          kind: "PersistentVolumeClaim",
          namespace: claim.metadata?.namespace,
          name: claim.metadata?.name,
          uid: claim.metadata?.uid,
        },
        reason,
        message,
        type: reason === "Provisioning" ? "Normal" : "Warning",
        source: { component: simulatedDriver },
        reportingComponent: simulatedDriver,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      },
    });
  }
}

function ignoreConflict(error: { code?: number }): undefined {
  if (error.code === 409) return undefined;
  throw error;
}

function ignoreNotFound(error: { code?: number }): undefined {
  if (error.code === 404) return undefined;
  throw error;
}
