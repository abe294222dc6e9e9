import type { ClusterClient } from "../kube/client/cluster-client.ts";
import { isNotFound, KubeApiError } from "../kube/client/kube-api-error.ts";

/**
 * The few REST verbs the volume steps need, made idempotent: create returns the existing object
 * when a rerun finds it already there, delete ignores an object already gone. Paths are
 * absolute API paths (see the path helpers below).
 */

export async function getObject<T>(client: ClusterClient, path: string): Promise<T | undefined> {
  try {
    return (await client.request<T>({ method: "GET", path })).body;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

export async function listObjects<T>(
  client: ClusterClient,
  path: string,
  labelSelector?: string,
): Promise<T[]> {
  const query = labelSelector === undefined ? undefined : { labelSelector };
  const { body } = await client.request<{ items?: T[] }>({
    method: "GET",
    path,
    ...(query ? { query } : {}),
  });
  return body.items ?? [];
}

/** Creates the object at `collectionPath`, or returns the one a previous attempt created. */
export async function createOrGet<T extends { metadata?: { name?: string } }>(
  client: ClusterClient,
  collectionPath: string,
  body: T,
): Promise<T> {
  try {
    return (await client.request<T>({ method: "POST", path: collectionPath, body })).body;
  } catch (error) {
    if (!(error instanceof KubeApiError && error.status === 409)) throw error;
    const existing = await getObject<T>(client, `${collectionPath}/${body.metadata?.name}`);
    if (existing === undefined) throw error;
    return existing;
  }
}

export async function deleteIfPresent(client: ClusterClient, path: string): Promise<boolean> {
  try {
    await client.request({ method: "DELETE", path, body: { propagationPolicy: "Background" } });
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

export async function mergePatch<T>(client: ClusterClient, path: string, patch: unknown): Promise<T> {
  return (
    await client.request<T>({
      method: "PATCH",
      path,
      body: patch,
      contentType: "application/merge-patch+json",
    })
  ).body;
}

export const paths = {
  pvcs: (namespace: string) => `/api/v1/namespaces/${namespace}/persistentvolumeclaims`,
  pvc: (namespace: string, name: string) => `/api/v1/namespaces/${namespace}/persistentvolumeclaims/${name}`,
  pods: (namespace: string) => `/api/v1/namespaces/${namespace}/pods`,
  pod: (namespace: string, name: string) => `/api/v1/namespaces/${namespace}/pods/${name}`,
  secret: (namespace: string, name: string) => `/api/v1/namespaces/${namespace}/secrets/${name}`,
  pvs: () => "/api/v1/persistentvolumes",
  pv: (name: string) => `/api/v1/persistentvolumes/${name}`,
  storageClass: (name: string) => `/apis/storage.k8s.io/v1/storageclasses/${name}`,
  storageClasses: () => "/apis/storage.k8s.io/v1/storageclasses",
  snapshots: (namespace: string) =>
    `/apis/snapshot.storage.k8s.io/v1/namespaces/${namespace}/volumesnapshots`,
  snapshot: (namespace: string, name: string) =>
    `/apis/snapshot.storage.k8s.io/v1/namespaces/${namespace}/volumesnapshots/${name}`,
  snapshotContents: () => "/apis/snapshot.storage.k8s.io/v1/volumesnapshotcontents",
  snapshotContent: (name: string) => `/apis/snapshot.storage.k8s.io/v1/volumesnapshotcontents/${name}`,
  snapshotClass: (name: string) => `/apis/snapshot.storage.k8s.io/v1/volumesnapshotclasses/${name}`,
  groupSnapshots: (namespace: string) =>
    `/apis/groupsnapshot.storage.k8s.io/v1/namespaces/${namespace}/volumegroupsnapshots`,
  groupSnapshot: (namespace: string, name: string) =>
    `/apis/groupsnapshot.storage.k8s.io/v1/namespaces/${namespace}/volumegroupsnapshots/${name}`,
  allGroupSnapshots: () => "/apis/groupsnapshot.storage.k8s.io/v1/volumegroupsnapshots",
  groupSnapshotClasses: () => "/apis/groupsnapshot.storage.k8s.io/v1/volumegroupsnapshotclasses",
  allPods: () => "/api/v1/pods",
  allPvcs: () => "/api/v1/persistentvolumeclaims",
  allSnapshots: () => "/apis/snapshot.storage.k8s.io/v1/volumesnapshots",
  events: (namespace: string) => `/api/v1/namespaces/${namespace}/events`,
  /** The apps/v1 workloads whose pods kubeferry looks at: their placement, quiescing them. */
  workloads: (kind: "StatefulSet" | "Deployment", namespace: string) =>
    `/apis/apps/v1/namespaces/${namespace}/${kind.toLowerCase()}s`,
  workload: (kind: "StatefulSet" | "Deployment", namespace: string, name: string) =>
    `/apis/apps/v1/namespaces/${namespace}/${kind.toLowerCase()}s/${name}`,
};

/** Time, injectable so tests and the local runner can control waiting. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/**
 * Polls `check` until it returns a value (not undefined) or `timeoutMs` passes; then calls
 * `onTimeout` for the error to throw, so each caller names what it waited for and why.
 */
export async function pollUntil<T>(
  clock: Clock,
  timeoutMs: number,
  check: () => Promise<T | undefined>,
  onTimeout: () => Promise<Error> | Error,
  intervalMs = 250,
): Promise<T> {
  const deadline = clock.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (clock.now() >= deadline) throw await onTimeout();
    await clock.sleep(intervalMs);
  }
}

/** The most recent warning events about an object, for "why is it stuck" messages. */
export async function recentWarnings(
  client: ClusterClient,
  namespace: string,
  name: string,
): Promise<string> {
  try {
    const events = await listObjects<{
      type?: string;
      reason?: string;
      message?: string;
      involvedObject?: { name?: string };
    }>(client, paths.events(namespace));
    const warnings = events
      .filter((e) => e.involvedObject?.name === name && e.type === "Warning")
      .slice(-3)
      .map((e) => `${e.reason}: ${e.message}`);
    return warnings.length === 0 ? "no warning events" : warnings.join("; ");
  } catch {
    return "events unavailable";
  }
}
