import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";

// Namespaces shaped like production ones, for tests to deploy apps into: Pod Security admission
// at "restricted", or a ResourceQuota that makes every pod and claim account for itself.

/** A namespace whose pods must meet the `restricted` Pod Security Standard (enforced, not warned). */
export async function createRestrictedNamespace(kc: KubeConfig, name: string): Promise<void> {
  await kc.makeApiClient(CoreV1Api).createNamespace({
    body: {
      metadata: {
        name,
        labels: {
          "pod-security.kubernetes.io/enforce": "restricted",
          "pod-security.kubernetes.io/enforce-version": "latest",
        },
      },
    },
  });
}

export interface NamespaceQuota {
  requestsCpu: string;
  limitsCpu: string;
  requestsStorage: string;
  persistentVolumeClaims: number;
}

export const defaultQuota: NamespaceQuota = {
  requestsCpu: "2",
  limitsCpu: "4",
  requestsStorage: "10Gi",
  persistentVolumeClaims: 10,
};

/**
 * A namespace with a ResourceQuota on CPU and storage: a pod without CPU requests and limits, or a
 * claim beyond the quota, is refused at admission as on a governed production cluster.
 */
export async function createQuotaNamespace(
  kc: KubeConfig,
  name: string,
  quota: NamespaceQuota = defaultQuota,
): Promise<void> {
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name } } });
  await addResourceQuota(kc, name, quota);
}

/** A ResourceQuota named "quota" on CPU, storage and PVC count in an existing namespace. */
export async function addResourceQuota(kc: KubeConfig, name: string, quota: NamespaceQuota): Promise<void> {
  await kc.makeApiClient(CoreV1Api).createNamespacedResourceQuota({
    namespace: name,
    body: {
      metadata: { name: "quota" },
      spec: {
        hard: {
          "requests.cpu": quota.requestsCpu,
          "limits.cpu": quota.limitsCpu,
          "requests.storage": quota.requestsStorage,
          "count/persistentvolumeclaims": String(quota.persistentVolumeClaims),
        },
      },
    },
  });
}
