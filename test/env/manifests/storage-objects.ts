import type { KubernetesObject } from "@kubernetes/client-node";
import { stringify } from "yaml";

// The storage side of every local cluster: CSIDriver objects of the test driver in its two modes,
// the storage, snapshot and group snapshot classes, and rancher's local-path-provisioner setup.

/** The test CSI driver in block mode (image files; Block and Filesystem volumes). */
export const blockDriver = "sim.csi.kubeferry.dev";
/** The test CSI driver in directory mode (Filesystem only, as NFS/EFS/CephFS drivers). */
export const filesDriver = "files.csi.kubeferry.dev";
export const localPathProvisioner = "rancher.io/local-path";
export const localPathNamespace = "local-path-storage";
export const zoneLabel = "topology.kubernetes.io/zone";
export const zones = ["zone-a", "zone-b", "zone-c"];

/** Default delay before a snapshot of a `-slow` volume is ready (an EBS first snapshot takes hours). */
export const defaultSlowSnapshotSeconds = 180;

/** Storage and snapshot class names of one cluster; they differ per cluster so mapping is exercised. */
export interface ClusterClasses {
  /** Default StorageClass: thin, Immediate, reclaim policy Delete. */
  fast: string;
  /** As `fast` with reclaim policy Retain. */
  retain: string;
  /** Fresh volumes hold leftover non-zero bytes (thick LVM, SAN LUNs). */
  thick: string;
  /** WaitForFirstConsumer; a volume is reachable in its zone only; sizes rounded up to whole GiB. */
  zonal: string;
  /** Snapshots become ready only a while after they are cut. */
  slow: string;
  /** The directory-mode driver: Filesystem only, snapshots are directory copies. */
  files: string;
  /** rancher's local-path-provisioner (k3s' default): host folders, no snapshots, no Block. */
  localPath: string;
  /** Default VolumeSnapshotClass of the block driver, deletion policy Delete. */
  snapshot: string;
  /** Default VolumeSnapshotClass of the directory-mode driver. */
  filesSnapshot: string;
  /** VolumeGroupSnapshotClass of the block driver. */
  groupSnapshot: string;
}

export function classesFor(clusterName: string): ClusterClasses {
  const prefix = { source: "sim", destination: "dest" }[clusterName] ?? clusterName;
  return {
    fast: `${prefix}-fast`,
    retain: `${prefix}-retain`,
    thick: `${prefix}-thick`,
    zonal: `${prefix}-zonal`,
    slow: `${prefix}-slow`,
    files: `${prefix}-files`,
    // Unprefixed, as k3s names it.
    localPath: "local-path",
    snapshot: `${prefix}-snapshots`,
    filesSnapshot: `${prefix}-files-snapshots`,
    groupSnapshot: `${prefix}-group-snapshots`,
  };
}

/** What `env:up --json` reports of a StorageClass, so a person can choose one for a test. */
export interface StorageClassTraits {
  name: string;
  provisioner: string;
  bindingMode: "Immediate" | "WaitForFirstConsumer";
  blockMode: boolean;
  snapshots: boolean;
  thick: boolean;
}

interface ClassSpec extends StorageClassTraits {
  reclaimPolicy: "Delete" | "Retain";
  isDefault: boolean;
  parameters: Record<string, string>;
  allowVolumeExpansion: boolean;
}

function classSpecs(classes: ClusterClasses, slowSnapshotSeconds: number): ClassSpec[] {
  const csi = (name: string, overrides: Partial<ClassSpec>): ClassSpec => ({
    name,
    provisioner: blockDriver,
    bindingMode: "Immediate",
    blockMode: true,
    snapshots: true,
    thick: false,
    reclaimPolicy: "Delete",
    isDefault: false,
    parameters: {},
    allowVolumeExpansion: true,
    ...overrides,
  });
  return [
    csi(classes.fast, { isDefault: true }),
    csi(classes.retain, { reclaimPolicy: "Retain" }),
    csi(classes.thick, { thick: true, parameters: { thick: "true" } }),
    csi(classes.zonal, { bindingMode: "WaitForFirstConsumer", parameters: { zonal: "true" } }),
    csi(classes.slow, { parameters: { snapshotDelaySeconds: String(slowSnapshotSeconds) } }),
    csi(classes.files, { provisioner: filesDriver, blockMode: false }),
    {
      name: classes.localPath,
      provisioner: localPathProvisioner,
      bindingMode: "WaitForFirstConsumer",
      blockMode: false,
      snapshots: false,
      thick: false,
      reclaimPolicy: "Delete",
      isDefault: false,
      parameters: {},
      allowVolumeExpansion: false,
    },
  ];
}

export function storageClassTraits(clusterName: string, slowSnapshotSeconds: number): StorageClassTraits[] {
  return classSpecs(classesFor(clusterName), slowSnapshotSeconds).map(
    ({ name, provisioner, bindingMode, blockMode, snapshots, thick }) => ({
      name,
      provisioner,
      bindingMode,
      blockMode,
      snapshots,
      thick,
    }),
  );
}

export interface StorageObjectsRequest {
  clusterName: string;
  slowSnapshotSeconds: number;
  /** Folder of each node's local-path volumes, by node name. */
  localPathDirs: Record<string, string>;
}

/** Objects every local cluster gets once the snapshot CRDs are served. */
export function storageObjects(request: StorageObjectsRequest): KubernetesObject[] {
  const classes = classesFor(request.clusterName);
  return [
    csiDriver(blockDriver, ["Persistent"]),
    csiDriver(filesDriver, ["Persistent"]),
    ...classSpecs(classes, request.slowSnapshotSeconds).map(storageClass),
    snapshotClass(classes.snapshot, blockDriver),
    snapshotClass(classes.filesSnapshot, filesDriver),
    {
      apiVersion: "groupsnapshot.storage.k8s.io/v1",
      kind: "VolumeGroupSnapshotClass",
      metadata: { name: classes.groupSnapshot },
      driver: blockDriver,
      deletionPolicy: "Delete",
    } as KubernetesObject,
    ...localPathObjects(request.localPathDirs),
  ];
}

function csiDriver(name: string, volumeLifecycleModes: string[]): KubernetesObject {
  return {
    apiVersion: "storage.k8s.io/v1",
    kind: "CSIDriver",
    metadata: { name },
    // No ControllerPublishVolume, so no external-attacher and no VolumeAttachment objects.
    spec: { attachRequired: false, podInfoOnMount: false, volumeLifecycleModes },
  } as KubernetesObject;
}

function storageClass(spec: ClassSpec): KubernetesObject {
  return {
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: {
      name: spec.name,
      annotations: spec.isDefault ? { "storageclass.kubernetes.io/is-default-class": "true" } : {},
    },
    provisioner: spec.provisioner,
    parameters: spec.parameters,
    reclaimPolicy: spec.reclaimPolicy,
    volumeBindingMode: spec.bindingMode,
    allowVolumeExpansion: spec.allowVolumeExpansion,
  } as KubernetesObject;
}

function snapshotClass(name: string, driver: string): KubernetesObject {
  return {
    apiVersion: "snapshot.storage.k8s.io/v1",
    kind: "VolumeSnapshotClass",
    // The snapshot controller picks the default class of the PVC's driver.
    metadata: { name, annotations: { "snapshot.storage.kubernetes.io/is-default-class": "true" } },
    driver,
    deletionPolicy: "Delete",
  } as KubernetesObject;
}

/** Upstream's deployment (namespace, service account, ConfigMap), with a folder per node. */
function localPathObjects(localPathDirs: Record<string, string>): KubernetesObject[] {
  const helperPod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "helper-pod" },
    spec: { containers: [{ name: "helper-pod", image: "busybox", imagePullPolicy: "IfNotPresent" }] },
  };
  return [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: localPathNamespace } },
    {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: "local-path-provisioner-service-account", namespace: localPathNamespace },
    },
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "local-path-config", namespace: localPathNamespace },
      data: {
        "config.json": JSON.stringify({
          nodePathMap: Object.entries(localPathDirs).map(([node, path]) => ({ node, paths: [path] })),
        }),
        setup: '#!/bin/sh\nset -eu\nmkdir -m 0777 -p "$VOL_DIR"\n',
        teardown: '#!/bin/sh\nset -eu\nrm -rf "$VOL_DIR"\n',
        "helperPod.yaml": stringify(helperPod),
      },
    } as KubernetesObject,
  ];
}
