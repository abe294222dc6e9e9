import type { KubernetesObject } from "@kubernetes/client-node";
import { zoneLabel } from "./storage-objects.ts";

export const limitedUser = "kubeferry-limited";

/** A node of the local clusters: kwok plays its kubelet, the node shim its volume side. */
export interface FakeNode {
  name: string;
  zone: string;
}

/**
 * Objects every local cluster gets once its API server answers. `appletsDir` is the PATH of
 * commands exec'd into pods: busybox applets only, as in the stock helper image.
 */
export function clusterObjects(nodes: FakeNode[], appletsDir: string): KubernetesObject[] {
  return [
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
    // Without a more specific Exec (the node shim writes those for pods with volumes), exec into
    // any pod runs on the host under busybox.
    {
      apiVersion: "kwok.x-k8s.io/v1alpha1",
      kind: "ClusterExec",
      metadata: { name: "run-on-host" },
      spec: { execs: [{ local: { envs: [{ name: "PATH", value: appletsDir }] } }] },
    } as KubernetesObject,
    ...nodes.map(fakeNode),
  ];
}

function fakeNode({ name, zone }: FakeNode): KubernetesObject {
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
        [zoneLabel]: zone,
      },
    },
    status: {
      allocatable: { cpu: "32", memory: "256Gi", pods: "110" },
      capacity: { cpu: "32", memory: "256Gi", pods: "110" },
    },
  } as KubernetesObject;
}
