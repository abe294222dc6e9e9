import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
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
import { parseAllDocuments, stringify } from "yaml";
import { ensureBusybox } from "./busybox.ts";
import { ensureCsiDriverBinary } from "./csi-driver-binary.ts";
import { ensureKubernetesBinaries } from "./k8s-binaries.ts";
import {
  componentPids,
  createKwokctlCluster,
  type KwokctlCluster,
  kwokctlClusterDir,
} from "./kwokctl-cluster.ts";
import { ensureLoopDeviceNodes } from "./loop-devices.ts";
import { clusterObjects, type FakeNode, limitedUser } from "./manifests/cluster-objects.ts";
import {
  type ClusterClasses,
  classesFor,
  defaultSlowSnapshotSeconds,
  type StorageClassTraits,
  storageClassTraits,
  storageObjects,
  zones,
} from "./manifests/storage-objects.ts";
import { cleanupDriverRootsNow, type NodeShim, startNodeShim } from "./node-shim.ts";
import { killProcessGroupsNow, onProcessExit, stopProcessGroups } from "./process-groups.ts";
import { ensureStorageBinaries } from "./storage-binaries.ts";
import {
  type CsiDriverRoot,
  csiDriverRoots,
  startStorageComponents,
  storageDir,
} from "./storage-components.ts";

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
  /** Everything of this cluster lives below: kwokctl files, logs, storage state. */
  workDir: string;
  /** Fake nodes managed by kwok (six, two per zone); pods scheduled there become Running. */
  nodeNames: string[];
  nodes: FakeNode[];
  classes: ClusterClasses;
  /** The StorageClasses of this cluster with what a test may need to know of them. */
  storageClasses: StorageClassTraits[];
  /** The test CSI driver's state folders (block mode first, then directory mode). */
  csiDrivers: CsiDriverRoot[];
  /** Host image file of a block-mode CSI volume (a PV's `spec.csi.volumeHandle`). */
  volumeImagePath(volumeHandle: string): string;
  /** A fresh KubeConfig for the admin (default) or the limited token. */
  kubeConfig(user?: "admin" | "limited"): KubeConfig;
}

export interface LocalClusters {
  /** Root folder of this environment. */
  workDir: string;
  clusters: LocalCluster[];
  /** The cluster with this name; throws if there is none. */
  get(name: string): LocalCluster;
  /** Stops the node shims and every process of every cluster, then deletes workDir. */
  stop(): Promise<void>;
}

export interface StartClustersOptions {
  /** Root folder to use (created if missing); default: a new folder under the OS temp dir. */
  workDir?: string;
  /** Run the storage components and the node shim beside each cluster (default true). */
  storage?: boolean;
  /**
   * Seconds until a snapshot of a `-slow` volume is ready; default KUBEFERRY_SLOW_SNAPSHOT_SECONDS
   * or 180.
   */
  slowSnapshotSeconds?: number;
  /** Keep workDir after stop(), e.g. to read the component logs (default false). */
  keepWorkDir?: boolean;
  log?: (line: string) => void;
}

const fieldManager = "kubeferry-test-env";
const nodesPerCluster = 6;

/**
 * Starts one independent control plane per name on loopback, with six fake nodes in three zones
 * and (by default) the storage of a real cluster: the snapshot CRDs, the upstream provisioner and
 * snapshotter over the test CSI driver, local-path-provisioner, their classes and the node shim.
 * Everything is stopped by `stop()`, and also when this process exits or is interrupted.
 */
export async function startClusters(
  names: string[] = ["source", "destination"],
  options: StartClustersOptions = {},
): Promise<LocalClusters> {
  try {
    return await startClustersOnce(names, options);
  } catch (error) {
    // The ports were free when chosen, but another test file's environment, starting at the same
    // moment, bound one first: a race of the machine, not of the code under test. Once more with
    // other ports.
    if (!(error instanceof PortTaken) || options.workDir !== undefined) throw error;
    (options.log ?? ((line: string) => console.error(line)))(`[test-env] ${error.message}; starting again`);
    await rm(error.workDir, { recursive: true, force: true });
    return startClustersOnce(names, options);
  }
}

/** A component of the environment could not bind the loopback port it was given. */
class PortTaken extends Error {
  constructor(readonly workDir: string) {
    super(`a component of the environment in ${workDir} found its port taken`);
  }
}

/** Whether a component's log under the work directory says its port was taken meanwhile. */
async function portWasTaken(workDir: string): Promise<boolean> {
  const logs = (await readdir(workDir, { recursive: true })).filter((path) => path.endsWith(".log"));
  for (const path of logs) {
    const text = await readFile(join(workDir, path), "utf8").catch(() => "");
    if (text.includes("bind: address already in use")) return true;
  }
  return false;
}

async function startClustersOnce(names: string[], options: StartClustersOptions): Promise<LocalClusters> {
  const log = options.log ?? ((line: string) => console.error(line));
  if (new Set(names).size !== names.length || names.length === 0) {
    throw new Error(`cluster names must be distinct and non-empty, got ${JSON.stringify(names)}`);
  }
  const binaries = await ensureKubernetesBinaries(log);
  const withStorage = options.storage ?? true;
  const busybox = await ensureBusybox(log);
  // The snapshot CRDs and classes are installed either way (from the same cache): a cluster whose
  // storage processes are off still serves the snapshot API, as one with its driver down.
  const storageBinaries = await ensureStorageBinaries(log);
  const csiDriverBinary = withStorage ? await ensureCsiDriverBinary(log) : undefined;
  if (withStorage) ensureLoopDeviceNodes();
  const slowSnapshotSeconds = options.slowSnapshotSeconds ?? slowSnapshotSecondsFromEnv();
  const workDir = options.workDir ?? (await mkdtemp(join(tmpdir(), "kubeferry-env-")));
  await mkdir(workDir, { recursive: true });

  // Known before kwokctl runs, so that components of a half-started cluster are stopped too.
  const clusterDirs = names.flatMap((name) => [
    kwokctlClusterDir(join(workDir, name), name),
    storageDir(join(workDir, name)),
  ]);
  const drivers = names.flatMap((name) => csiDriverRoots(storageDir(join(workDir, name))));
  const shims: NodeShim[] = [];
  let keepWorkDir = options.keepWorkDir ?? false;
  const allPids = () => clusterDirs.flatMap(componentPids);
  const removeExitCleanup = onProcessExit(() => {
    killProcessGroupsNow(allPids());
    try {
      // Mounted volume images must be let go before their folders can be deleted.
      if (csiDriverBinary) cleanupDriverRootsNow(csiDriverBinary, drivers);
    } finally {
      if (!keepWorkDir) rmSync(workDir, { recursive: true, force: true });
    }
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await Promise.all(shims.map((shim) => shim.stop()));
    await stopProcessGroups(allPids());
    if (csiDriverBinary) cleanupDriverRootsNow(csiDriverBinary, drivers);
    removeExitCleanup();
    if (!keepWorkDir) await rm(workDir, { recursive: true, force: true });
  };

  try {
    const startedAt = Date.now();
    // allSettled: on a failure, stop() must not run while another cluster is still starting.
    const results = await Promise.allSettled(
      names.map(async (name, index) => {
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
        const kwokctl = await createKwokctlCluster({
          name,
          workDir: clusterWorkDir,
          tokenFile,
          binaries,
          execPath: busybox.appletsDir,
          serviceClusterIpRange: `10.${96 + index}.0.0/24`,
        });
        const cluster = await describeCluster(
          kwokctl,
          clusterWorkDir,
          adminToken,
          limitedToken,
          slowSnapshotSeconds,
        );
        await bootstrap(cluster, busybox.appletsDir);
        await bootstrapStorage(cluster, slowSnapshotSeconds, storageBinaries.snapshotCrdsDir);
        if (csiDriverBinary) {
          await startStorageComponents({
            clusterName: name,
            dir: storageDir(clusterWorkDir),
            kubeconfigPath: cluster.kubeconfigPath,
            binaries: storageBinaries,
            csiDriverBinary,
            nodes: cluster.nodes,
          });
          shims.push(
            await startNodeShim({
              cluster,
              nodes: cluster.nodes,
              drivers: cluster.csiDrivers,
              csiDriverBinary,
              appletsDir: busybox.appletsDir,
              dir: join(storageDir(clusterWorkDir), "node-shim"),
            }),
          );
        }
        return cluster;
      }),
    );
    const failure = results.find((result) => result.status === "rejected");
    if (failure) throw failure.reason;
    const clusters = results.map((result) => (result as PromiseFulfilledResult<LocalCluster>).value);
    log(`[test-env] clusters ${names.join(", ")} ready in ${Math.round((Date.now() - startedAt) / 1000)}s`);
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
    if (await portWasTaken(workDir)) throw new PortTaken(workDir);
    log(`[test-env] start failed; component logs are kept in ${workDir}`);
    throw error;
  }
}

async function describeCluster(
  kwokctl: KwokctlCluster,
  workDir: string,
  adminToken: string,
  limitedToken: string,
  slowSnapshotSeconds: number,
): Promise<LocalCluster> {
  const server = `https://127.0.0.1:${kwokctl.apiserverPort}`;
  const caData = (await readFile(kwokctl.caCertPath)).toString("base64");
  const kubeconfigPath = join(workDir, "kubeconfig.yaml");
  const nodes = Array.from({ length: nodesPerCluster }, (_, i) => ({
    name: `${kwokctl.name}-node-${i}`,
    zone: zones[i % zones.length] as string,
  }));
  const drivers = csiDriverRoots(storageDir(workDir));
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
    nodeNames: nodes.map((node) => node.name),
    nodes,
    classes: classesFor(kwokctl.name),
    storageClasses: storageClassTraits(kwokctl.name, slowSnapshotSeconds),
    csiDrivers: drivers,
    volumeImagePath: (volumeHandle) => join(drivers[0]?.root as string, "volumes", `${volumeHandle}.img`),
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

async function bootstrap(cluster: LocalCluster, appletsDir: string): Promise<void> {
  const kc = cluster.kubeConfig();
  const objects = KubernetesObjectApi.makeApiClient(kc);
  await waitForEstablished(objects, cluster.name, ["clusterexecs.kwok.x-k8s.io", "execs.kwok.x-k8s.io"]);
  await applyAll(objects, clusterObjects(cluster.nodes, appletsDir));
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

/** The upstream snapshot CRDs (read from the storage binary cache), then classes and drivers. */
async function bootstrapStorage(
  cluster: LocalCluster,
  slowSnapshotSeconds: number,
  snapshotCrdsDir: string,
): Promise<void> {
  const objects = KubernetesObjectApi.makeApiClient(cluster.kubeConfig());
  const crds: V1CustomResourceDefinition[] = [];
  for (const file of (await readdir(snapshotCrdsDir)).sort()) {
    for (const document of parseAllDocuments(await readFile(join(snapshotCrdsDir, file), "utf8"))) {
      const crd = document.toJS() as V1CustomResourceDefinition | null;
      if (crd?.kind === "CustomResourceDefinition") crds.push(crd);
    }
  }
  await applyAll(objects, crds);
  await waitForEstablished(
    objects,
    cluster.name,
    crds.map((crd) => crd.metadata?.name as string),
  );
  // Established is not the end: the resource's storage may still be initializing (429) for a moment.
  await waitFor(`snapshot resources of ${cluster.name} to be served`, async () => {
    for (const crd of crds) {
      await objects.list(
        `${crd.spec.group}/v1`,
        crd.spec.names.kind,
        crd.spec.scope === "Namespaced" ? "default" : undefined,
      );
    }
    return true;
  });
  const localPathDirs = Object.fromEntries(
    cluster.nodeNames.map((node) => [node, join(storageDir(cluster.workDir), "local-path", node)]),
  );
  await applyAll(objects, storageObjects({ clusterName: cluster.name, slowSnapshotSeconds, localPathDirs }));
}

async function waitForEstablished(objects: KubernetesObjectApi, clusterName: string, names: string[]) {
  await waitFor(`CRDs of ${clusterName} to be established`, async () => {
    for (const name of names) {
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
}

function slowSnapshotSecondsFromEnv(): number {
  const given = process.env.KUBEFERRY_SLOW_SNAPSHOT_SECONDS;
  if (given === undefined || given === "") return defaultSlowSnapshotSeconds;
  const seconds = Number(given);
  if (!Number.isInteger(seconds) || seconds < 0) {
    throw new Error(
      `KUBEFERRY_SLOW_SNAPSHOT_SECONDS must be a whole number of seconds (0 or more), got "${given}"`,
    );
  }
  return seconds;
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
