import type { KubernetesObject } from "@kubernetes/client-node";

export const simulatedDriver = "sim.csi.kubeferry.dev";

/** Storage and snapshot class names of one cluster; they differ per cluster so mapping is exercised. */
export interface ClusterClasses {
  /** Default StorageClass, reclaim policy Delete. */
  fast: string;
  /** StorageClass with reclaim policy Retain. */
  retain: string;
  /** Default VolumeSnapshotClass, deletion policy Delete. */
  snapshot: string;
}

export function classesFor(clusterName: string): ClusterClasses {
  const prefix = { source: "sim", destination: "dest" }[clusterName] ?? clusterName;
  return { fast: `${prefix}-fast`, retain: `${prefix}-retain`, snapshot: `${prefix}-snapshots` };
}

export const limitedUser = "kubeferry-limited";

function storageClass(
  name: string,
  reclaimPolicy: "Delete" | "Retain",
  isDefault: boolean,
): KubernetesObject {
  return {
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: {
      name,
      annotations: isDefault ? { "storageclass.kubernetes.io/is-default-class": "true" } : {},
    },
    provisioner: simulatedDriver,
    reclaimPolicy,
    volumeBindingMode: "Immediate",
    allowVolumeExpansion: false,
  } as KubernetesObject;
}

/** Objects every local cluster gets once its API server answers (the snapshot CRDs come first). */
export function clusterObjects(clusterName: string, nodeNames: string[]): KubernetesObject[] {
  const classes = classesFor(clusterName);
  return [
    storageClass(classes.fast, "Delete", true),
    storageClass(classes.retain, "Retain", false),
    {
      apiVersion: "snapshot.storage.k8s.io/v1",
      kind: "VolumeSnapshotClass",
      metadata: {
        name: classes.snapshot,
        annotations: { "snapshot.storage.kubernetes.io/is-default-class": "true" },
      },
      driver: simulatedDriver,
      deletionPolicy: "Delete",
    } as KubernetesObject,
    // The limited token may read ordinary workload objects and nothing else: no Secrets, no Nodes,
    // no writes. Spelled out rather than bound to the built-in aggregated "view" role, whose rules
    // the controller manager fills in only some time after start (a race seen in CI).
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: `${limitedUser}-read` },
      rules: [
        {
          apiGroups: [""],
          resources: [
            "pods",
            "pods/log",
            "services",
            "endpoints",
            "configmaps",
            "persistentvolumeclaims",
            "serviceaccounts",
            "events",
            "namespaces",
            "replicationcontrollers",
          ],
          verbs: ["get", "list", "watch"],
        },
        {
          apiGroups: ["apps", "batch", "policy", "networking.k8s.io"],
          resources: ["*"],
          verbs: ["get", "list", "watch"],
        },
      ],
    } as KubernetesObject,
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: `${limitedUser}-read` },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: `${limitedUser}-read` },
      subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: limitedUser }],
    } as KubernetesObject,
    // Without a more specific Exec (the storage simulator writes those), exec into any pod runs on the host.
    {
      apiVersion: "kwok.x-k8s.io/v1alpha1",
      kind: "ClusterExec",
      metadata: { name: "run-on-host" },
      spec: { execs: [{ local: {} }] },
    } as KubernetesObject,
    ...nodeNames.map((name) => fakeNode(name)),
  ];
}

function fakeNode(name: string): KubernetesObject {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name,
      annotations: { "kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0" },
      labels: {
        type: "kwok",
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
      },
    },
    status: {
      allocatable: { cpu: "32", memory: "256Gi", pods: "110" },
      capacity: { cpu: "32", memory: "256Gi", pods: "110" },
    },
  } as KubernetesObject;
}
