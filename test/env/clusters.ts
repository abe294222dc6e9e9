import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import {
  CoreV1Api,
  Exec,
  KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
  type V1CustomResourceDefinition,
  type V1Node,
  type V1Status,
} from "@kubernetes/client-node";
import { stringify } from "yaml";
import { ensureKubernetesBinaries } from "./k8s-binaries.ts";
import {
  componentPids,
  createKwokctlCluster,
  type KwokctlCluster,
  kwokctlClusterDir,
} from "./kwokctl-cluster.ts";
import { type ClusterClasses, classesFor, clusterObjects, limitedUser } from "./manifests/cluster-objects.ts";
import { snapshotCrds } from "./manifests/snapshot-crds.ts";
import { killProcessGroupsNow, onProcessExit, stopProcessGroups } from "./process-groups.ts";
import { type StorageSimulator, startStorageSimulator } from "./storage-simulator.ts";

export interface LocalCluster {
  name: string;
  /** https://127.0.0.1:<port> */
  server: string;
  /** Kubeconfig with the admin token; its context is named after the cluster. */
  kubeconfigPath: string;
  /** Same server, authenticated with the limited token (read-only: no Secrets, no Nodes, no writes). */
  limitedKubeconfigPath: string;
  adminToken: string;
  limitedToken: string;
  /** PEM file of the cluster CA (also embedded in both kubeconfigs). */
  caCertPath: string;
  /** Everything of this cluster lives below: kwokctl files, logs, simulated volumes. */
  workDir: string;
  /** Fake nodes managed by kwok; pods scheduled there become Running. */
  nodeNames: string[];
  classes: ClusterClasses;
  /** A fresh KubeConfig for the admin (default) or the limited token. */
  kubeConfig(user?: "admin" | "limited"): KubeConfig;
}

export interface LocalClusters {
  /** Root folder of this environment. */
  workDir: string;
  clusters: LocalCluster[];
  /** The cluster with this name; throws if there is none. */
  get(name: string): LocalCluster;
  /** Stops the storage simulators and every process of every cluster, then deletes workDir. */
  stop(): Promise<void>;
}

export interface StartClustersOptions {
  /** Root folder to use (created if missing); default: a new folder under the OS temp dir. */
  workDir?: string;
  /** Run the storage simulator beside each cluster (default true). */
  storageSimulator?: boolean;
  /** Keep workDir after stop(), e.g. to read the component logs (default false). */
  keepWorkDir?: boolean;
  log?: (line: string) => void;
}

const fieldManager = "kubeferry-test-env";
const nodesPerCluster = 2;

/**
 * Starts one independent control plane per name on loopback, with the snapshot CRDs, storage and
 * snapshot classes, two fake nodes and (by default) the storage simulator. Everything is stopped by
 * `stop()`, and also when this process exits or is interrupted.
 */
export async function startClusters(
  names: string[] = ["source", "destination"],
  options: StartClustersOptions = {},
): Promise<LocalClusters> {
  const log = options.log ?? ((line: string) => console.error(line));
  if (new Set(names).size !== names.length || names.length === 0) {
    throw new Error(`cluster names must be distinct and non-empty, got ${JSON.stringify(names)}`);
  }
  const binaries = await ensureKubernetesBinaries(log);
  const workDir = options.workDir ?? (await mkdtemp(join(tmpdir(), "kubeferry-env-")));
  await mkdir(workDir, { recursive: true });

  // Known before kwokctl runs, so that components of a half-started cluster are stopped too.
  const clusterDirs = names.map((name) => kwokctlClusterDir(join(workDir, name), name));
  const simulators: StorageSimulator[] = [];
  let keepWorkDir = options.keepWorkDir ?? false;
  const allPids = () => clusterDirs.flatMap(componentPids);
  const removeExitCleanup = onProcessExit(() => {
    killProcessGroupsNow(allPids());
    if (!keepWorkDir) rmSync(workDir, { recursive: true, force: true });
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await Promise.all(simulators.map((simulator) => simulator.stop()));
    await stopProcessGroups(allPids());
    removeExitCleanup();
    if (!keepWorkDir) await rm(workDir, { recursive: true, force: true });
  };

  try {
    const startedAt = Date.now();
    // allSettled: on a failure, stop() must not run while another cluster is still starting.
    const results = await Promise.allSettled(
      names.map(async (name) => {
        const clusterWorkDir = join(workDir, name);
        await mkdir(clusterWorkDir, { recursive: true });
        const adminToken = randomBytes(24).toString("hex");
        const limitedToken = randomBytes(24).toString("hex");
        const tokenFile = join(clusterWorkDir, "tokens.csv");
        await writeFile(
          tokenFile,
          `${adminToken},kubeferry-admin,kubeferry-admin,"system:masters"\n${limitedToken},${limitedUser},${limitedUser}\n`,
          { mode: 0o600 },
        );
        const kwokctl = await createKwokctlCluster({ name, workDir: clusterWorkDir, tokenFile, binaries });
        const cluster = await describeCluster(kwokctl, clusterWorkDir, adminToken, limitedToken);
        await bootstrap(cluster);
        return cluster;
      }),
    );
    const failure = results.find((result) => result.status === "rejected");
    if (failure) throw failure.reason;
    const clusters = results.map((result) => (result as PromiseFulfilledResult<LocalCluster>).value);
    log(`[test-env] clusters ${names.join(", ")} ready in ${Math.round((Date.now() - startedAt) / 1000)}s`);
    if (options.storageSimulator ?? true) {
      for (const cluster of clusters) {
        simulators.push(startStorageSimulator(cluster));
      }
    }
    return {
      workDir,
      clusters,
      get(name) {
        const cluster = clusters.find((candidate) => candidate.name === name);
        if (!cluster) throw new Error(`no local cluster named "${name}"; started: ${names.join(", ")}`);
        return cluster;
      },
      stop,
    };
  } catch (error) {
    // Keep the logs of a failed start for whoever reads the error.
    keepWorkDir = true;
    await stop();
    log(`[test-env] start failed; component logs are kept in ${workDir}`);
    throw error;
  }
}

async function describeCluster(
  kwokctl: KwokctlCluster,
  workDir: string,
  adminToken: string,
  limitedToken: string,
): Promise<LocalCluster> {
  const server = `https://127.0.0.1:${kwokctl.apiserverPort}`;
  const caData = (await readFile(kwokctl.caCertPath)).toString("base64");
  const kubeconfigPath = join(workDir, "kubeconfig.yaml");
  const limitedKubeconfigPath = join(workDir, "kubeconfig-limited.yaml");
  await writeFile(kubeconfigPath, kubeconfigYaml(kwokctl.name, server, caData, adminToken), { mode: 0o600 });
  await writeFile(limitedKubeconfigPath, kubeconfigYaml(kwokctl.name, server, caData, limitedToken), {
    mode: 0o600,
  });
  return {
    name: kwokctl.name,
    server,
    kubeconfigPath,
    limitedKubeconfigPath,
    adminToken,
    limitedToken,
    caCertPath: kwokctl.caCertPath,
    workDir,
    nodeNames: Array.from({ length: nodesPerCluster }, (_, i) => `${kwokctl.name}-node-${i}`),
    classes: classesFor(kwokctl.name),
    kubeConfig(user = "admin") {
      const kc = new KubeConfig();
      kc.loadFromFile(user === "admin" ? kubeconfigPath : limitedKubeconfigPath);
      return kc;
    },
  };
}

function kubeconfigYaml(name: string, server: string, caData: string, token: string): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name, cluster: { server, "certificate-authority-data": caData } }],
    users: [{ name, user: { token } }],
    contexts: [{ name, context: { cluster: name, user: name } }],
    "current-context": name,
  });
}

async function bootstrap(cluster: LocalCluster): Promise<void> {
  const kc = cluster.kubeConfig();
  const objects = KubernetesObjectApi.makeApiClient(kc);
  await applyAll(objects, snapshotCrds);
  await waitFor(`snapshot and kwok CRDs of ${cluster.name} to be established`, async () => {
    for (const name of [
      ...snapshotCrds.map((crd) => crd.metadata?.name as string),
      "clusterexecs.kwok.x-k8s.io",
      "execs.kwok.x-k8s.io",
    ]) {
      const crd = await objects
        .read<V1CustomResourceDefinition>({
          apiVersion: "apiextensions.k8s.io/v1",
          kind: "CustomResourceDefinition",
          metadata: { name },
        })
        .catch(() => undefined);
      if (!crd?.status?.conditions?.some((c) => c.type === "Established" && c.status === "True"))
        return false;
    }
    return true;
  });
  // Established is not the end: the resource's storage may still be initializing (429) for a moment.
  await waitFor(`snapshot resources of ${cluster.name} to be served`, async () => {
    for (const crd of snapshotCrds) {
      await objects.list(
        `${crd.spec.group}/v1`,
        crd.spec.names.kind,
        crd.spec.scope === "Namespaced" ? "default" : undefined,
      );
    }
    return true;
  });
  await applyAll(objects, clusterObjects(cluster.name, cluster.nodeNames));
  // RBAC reaches the authorizer's cache a moment after the binding is written.
  const limited = cluster.kubeConfig("limited").makeApiClient(CoreV1Api);
  await waitFor(`the limited token of ${cluster.name} to be allowed to read pods`, async () => {
    await limited.listNamespacedPod({ namespace: "default" });
    return true;
  });
  await waitFor(`fake nodes of ${cluster.name} to be Ready`, async () => {
    for (const name of cluster.nodeNames) {
      const node = await objects
        .read<V1Node>({ apiVersion: "v1", kind: "Node", metadata: { name } })
        .catch(() => undefined);
      if (!node?.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True")) return false;
    }
    return true;
  });
  await waitForHostExec(cluster);
}

/**
 * kwok learns about the ClusterExec through a watch that may start late; until then exec fails
 * with "no exec found". A throwaway pod proves the whole path (API server → kwok → host) works.
 */
async function waitForHostExec(cluster: LocalCluster): Promise<void> {
  const kc = cluster.kubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const probe = { namespace: "kube-system", name: "kubeferry-exec-probe" };
  await waitFor(`the exec probe pod of ${cluster.name} to be created`, async () => {
    await core.createNamespacedPod({
      namespace: probe.namespace,
      body: {
        metadata: { name: probe.name },
        spec: {
          nodeName: cluster.nodeNames[0],
          automountServiceAccountToken: false,
          containers: [{ name: "probe", image: "busybox" }],
        },
      },
    });
    return true;
  });
  await waitFor(`exec into pods of ${cluster.name} to run on the host`, async () => {
    let status: V1Status | undefined;
    // The API server refuses an exec without any stream.
    const discard = new Writable({ write: (_chunk, _encoding, done) => done() });
    const socket = await new Exec(kc).exec(
      probe.namespace,
      probe.name,
      "probe",
      ["true"],
      discard,
      null,
      null,
      false,
      (s) => {
        status = s;
      },
    );
    await new Promise((resolve) => socket.once("close", resolve));
    return status?.status === "Success";
  });
  await core.deleteNamespacedPod({ ...probe, gracePeriodSeconds: 0 });
}

async function applyAll(objects: KubernetesObjectApi, manifests: KubernetesObject[]): Promise<void> {
  for (const manifest of manifests) {
    // The API server may still be registering the resource type (e.g. a CRD just established).
    await waitFor(`${manifest.kind} ${manifest.metadata?.name} to be applied`, async () => {
      await objects.patch(manifest, undefined, undefined, fieldManager, true, PatchStrategy.ServerSideApply);
      return true;
    });
  }
}

/** Polls `check` until it returns true; errors thrown by it count as "not yet" until the timeout. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error;
    }
    await sleep(200);
  }
  throw new Error(
    `timed out after ${timeoutMs / 1000}s waiting for ${what}${lastError ? `: ${lastError}` : ""}`,
  );
}
