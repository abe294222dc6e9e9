import { execFile, spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import {
  CoreV1Api,
  type KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  StorageV1Api,
  setHeaderOptions,
  type V1EnvVar,
  type V1PersistentVolume,
  type V1PersistentVolumeClaim,
  type V1Pod,
  Watch,
} from "@kubernetes/client-node";
import type { FakeNode } from "./manifests/cluster-objects.ts";
import { localPathNamespace, zoneLabel } from "./manifests/storage-objects.ts";
import type { CsiDriverRoot } from "./storage-components.ts";

// What kubelet does for volumes on the KWOK nodes, and nothing more: registers the test CSI
// driver on every node (CSINode), publishes each pod's volumes through the driver's node CLI
// (a loop device for Block, a mounted filesystem for Filesystem) once its claims are bound, hands
// their paths to the pod's exec commands (KWOK `Exec`), unpublishes them when the pod ends, and
// runs local-path-provisioner's helper pods on the host. Level-triggered like a controller: any
// watch event (and a periodic resync) runs one reconcile of all pods.

export interface NodeShim {
  stop(): Promise<void>;
}

export interface NodeShimRequest {
  cluster: { name: string; kubeConfig(): KubeConfig };
  nodes: FakeNode[];
  drivers: CsiDriverRoot[];
  csiDriverBinary: string;
  /** Folder of busybox applets: the only PATH of pod commands. */
  appletsDir: string;
  /** Scratch folder (helper pods' ConfigMap volumes). */
  dir: string;
}

interface Published {
  driver?: CsiDriverRoot;
  volumeId?: string;
  target?: string;
  /** The loop device (Block) or the mount point (Filesystem) the pod sees. */
  path: string;
  block: boolean;
}

const fieldManager = "kubeferry-node-shim";
const resyncMs = 3_000;
const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
const runFile = promisify(execFile);
const watchedPaths = ["/api/v1/pods", "/api/v1/persistentvolumeclaims", "/api/v1/persistentvolumes"];

export async function startNodeShim(request: NodeShimRequest): Promise<NodeShim> {
  const shim = new Shim(request);
  await shim.registerDriver();
  shim.start();
  return { stop: () => shim.stop() };
}

/** Unmounts and detaches everything of the drivers' roots, synchronously (for exit paths too). */
export function cleanupDriverRootsNow(csiDriverBinary: string, drivers: CsiDriverRoot[]): void {
  for (const driver of drivers) {
    if (!existsSync(driver.root)) continue;
    // Bounded: this also runs on the way out of an interrupted process, which must not hang.
    const result = spawnSync(csiDriverBinary, ["node-cleanup", `--root=${driver.root}`], {
      encoding: "utf8",
      timeout: 30_000,
    });
    if (result.status !== 0) {
      throw new Error(`node-cleanup of ${driver.root} failed: ${result.stderr || result.error?.message}`);
    }
  }
}

class Shim {
  private readonly core: CoreV1Api;
  private readonly storage: StorageV1Api;
  private readonly objects: KubernetesObjectApi;
  private readonly watch: Watch;
  private readonly watches: AbortController[] = [];
  private running = true;
  private dirty = true;
  private wake: () => void = () => {};
  private loop: Promise<void> = Promise.resolve();
  /** Volumes published to pods, by `<pod uid>/<pod volume name>`. */
  private readonly published = new Map<string, Published>();
  private readonly appliedExecs = new Map<string, string>();
  private readonly helperPodsRun = new Set<string>();

  constructor(private readonly request: NodeShimRequest) {
    const kc = request.cluster.kubeConfig();
    this.core = kc.makeApiClient(CoreV1Api);
    this.storage = kc.makeApiClient(StorageV1Api);
    this.objects = KubernetesObjectApi.makeApiClient(kc);
    this.watch = new Watch(kc);
  }

  /** As kubelet's plugin registration: one CSINode per node naming the driver and its topology key. */
  async registerDriver(): Promise<void> {
    for (const node of this.request.nodes) {
      const nodeObject = await this.core.readNode({ name: node.name });
      await this.objects.patch(
        {
          apiVersion: "storage.k8s.io/v1",
          kind: "CSINode",
          metadata: {
            name: node.name,
            ownerReferences: [
              { apiVersion: "v1", kind: "Node", name: node.name, uid: nodeObject.metadata?.uid as string },
            ],
          },
          spec: {
            drivers: this.request.drivers.map((driver) => ({
              name: driver.driverName,
              nodeID: node.name,
              topologyKeys: [zoneLabel],
            })),
          },
        } as never,
        undefined,
        undefined,
        fieldManager,
        true,
        PatchStrategy.ServerSideApply,
      );
    }
    await this.storage.listCSINode();
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
    for (const [key, entry] of this.published) {
      await this.unpublish(entry).catch(() => undefined);
      this.published.delete(key);
    }
    cleanupDriverRootsNow(this.request.csiDriverBinary, this.request.drivers);
  }

  private startWatch(path: string): void {
    if (!this.running) return;
    const retry = () => {
      // Watches end on timeouts and server restarts; the periodic resync covers the gap.
      if (this.running) setTimeout(() => this.startWatch(path), 1_000);
    };
    this.watch
      .watch(path, {}, () => this.markDirty(), retry)
      .then((controller) => {
        if (this.running) this.watches.push(controller);
        else controller.abort();
      }, retry);
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
        if (this.running) console.error(`[node-shim ${this.request.cluster.name}] reconcile failed:`, error);
      }
    }
  }

  private async reconcile(): Promise<void> {
    const [pods, claims, volumes] = await Promise.all([
      this.core.listPodForAllNamespaces(),
      this.core.listPersistentVolumeClaimForAllNamespaces(),
      this.core.listPersistentVolume(),
    ]);
    const live = pods.items.filter(isLive);
    const liveUids = new Set(live.map((pod) => pod.metadata?.uid));
    for (const [key, entry] of this.published) {
      if (liveUids.has(key.split("/")[0])) continue;
      await this.unpublish(entry);
      this.published.delete(key);
    }
    for (const done of [this.appliedExecs, this.helperPodsRun]) {
      for (const uid of done.keys()) if (!liveUids.has(uid)) done.delete(uid);
    }
    for (const pod of live) {
      // One pod's failure (e.g. a volume its driver cannot publish) must not hold up the others.
      await this.reconcilePod(pod, claims.items, volumes.items).catch((error) => {
        if (this.running)
          console.error(`[node-shim ${this.request.cluster.name}] pod ${pod.metadata?.name}:`, error);
      });
    }
  }

  private async reconcilePod(
    pod: V1Pod,
    claims: V1PersistentVolumeClaim[],
    volumes: V1PersistentVolume[],
  ): Promise<void> {
    if (pod.metadata?.namespace === localPathNamespace) {
      await this.runHelperPod(pod);
      return;
    }
    const bound = boundVolumesOf(pod, claims, volumes);
    if (!bound) return;
    const paths = new Map<string, Published>();
    for (const [volumeName, pv] of bound) {
      paths.set(volumeName, await this.publish(pod, volumeName, pv));
    }
    if (paths.size > 0) await this.writeExec(pod, paths);
  }

  private async publish(pod: V1Pod, volumeName: string, pv: V1PersistentVolume): Promise<Published> {
    const key = `${pod.metadata?.uid}/${volumeName}`;
    const known = this.published.get(key);
    if (known) return known;
    const block = pv.spec?.volumeMode === "Block";
    const hostPath = pv.spec?.hostPath?.path ?? pv.spec?.local?.path;
    let entry: Published;
    if (hostPath) {
      // local-path volumes are host folders; kubelet bind-mounts them, the pod sees the same files.
      entry = { path: hostPath, block };
    } else {
      const csi = pv.spec?.csi;
      const driver = this.request.drivers.find((candidate) => candidate.driverName === csi?.driver);
      if (!csi || !driver) {
        throw new Error(
          `PV ${pv.metadata?.name} of pod ${pod.metadata?.name} has no volume the node shim knows`,
        );
      }
      const target = join(driver.root, "published", pod.metadata?.uid as string, volumeName);
      await mkdir(dirname(target), { recursive: true });
      const readonly = pod.spec?.volumes?.find((v) => v.name === volumeName)?.persistentVolumeClaim?.readOnly;
      const args = [
        "node-publish",
        `--root=${driver.root}`,
        `--mode=${driver.mode}`,
        `--volume-id=${csi.volumeHandle}`,
        `--target=${target}`,
        ...(block ? ["--block"] : []),
        ...(csi.fsType ? [`--fs-type=${csi.fsType}`] : []),
        ...(readonly || csi.readOnly ? ["--readonly"] : []),
      ];
      const path = await this.driverCli(args);
      entry = { driver, volumeId: csi.volumeHandle, target, path, block };
    }
    this.published.set(key, entry);
    return entry;
  }

  private async unpublish(entry: Published): Promise<void> {
    if (!entry.driver) return;
    await this.driverCli([
      "node-unpublish",
      `--root=${entry.driver.root}`,
      `--volume-id=${entry.volumeId}`,
      `--target=${entry.target}`,
    ]);
  }

  private async driverCli(args: string[]): Promise<string> {
    try {
      const { stdout } = await runFile(this.request.csiDriverBinary, args, { encoding: "utf8" });
      return stdout.trim();
    } catch (error) {
      const stderr = (error as { stderr?: string }).stderr?.trim();
      throw new Error(`kubeferry-csi-driver ${args.join(" ")} failed: ${stderr || error}`);
    }
  }

  /**
   * kwok runs `exec` commands on the host; an Exec named after the pod gives each container the
   * host paths of its volumes: KUBEFERRY_DEVICE (first Block volume, a loop device) and
   * KUBEFERRY_MOUNT (first Filesystem volume, a mounted filesystem), busybox as its tools, and,
   * as kubelet gives an exec'd command, the container's env (literal values and Secret keys).
   */
  private async writeExec(pod: V1Pod, paths: Map<string, Published>): Promise<void> {
    const containerEnvs = await Promise.all(
      (pod.spec?.containers ?? []).map((container) =>
        this.containerEnv(pod.metadata?.namespace as string, container.env ?? []),
      ),
    );
    const execs = (pod.spec?.containers ?? []).map((container, i) => {
      const envs = [...(containerEnvs[i] ?? []), { name: "PATH", value: this.request.appletsDir }];
      const device = container.volumeDevices?.find((d) => paths.get(d.name)?.block);
      if (device) envs.push({ name: "KUBEFERRY_DEVICE", value: paths.get(device.name)?.path as string });
      const mount = container.volumeMounts?.find((m) => paths.has(m.name) && !paths.get(m.name)?.block);
      if (mount) envs.push({ name: "KUBEFERRY_MOUNT", value: paths.get(mount.name)?.path as string });
      return { containers: [container.name], local: { envs } };
    });
    const key = pod.metadata?.uid as string;
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
          ownerReferences: [{ apiVersion: "v1", kind: "Pod", name: pod.metadata?.name as string, uid: key }],
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

  private async containerEnv(
    namespace: string,
    env: V1EnvVar[],
  ): Promise<Array<{ name: string; value: string }>> {
    const resolved: Array<{ name: string; value: string }> = [];
    for (const { name, value, valueFrom } of env) {
      const ref = valueFrom?.secretKeyRef;
      if (value !== undefined) resolved.push({ name, value });
      else if (ref?.name) {
        const secret = await this.core.readNamespacedSecret({ name: ref.name, namespace });
        const data = secret.data?.[ref.key];
        if (data !== undefined) resolved.push({ name, value: Buffer.from(data, "base64").toString() });
      }
    }
    return resolved;
  }

  /**
   * local-path-provisioner creates a pod to mkdir/rm a volume's folder and waits for it to reach
   * phase Succeeded. KWOK never runs containers, so the shim runs its command on the host under
   * busybox, with its env and ConfigMap volumes, and reports the end as kubelet would.
   */
  private async runHelperPod(pod: V1Pod): Promise<void> {
    const uid = pod.metadata?.uid as string;
    // Wait for kwok's own transition to Running, which would otherwise overwrite ours.
    if (pod.status?.phase !== "Running" || this.helperPodsRun.has(uid)) return;
    this.helperPodsRun.add(uid);
    const container = pod.spec?.containers?.[0];
    if (!container) return;
    const startedAt = new Date();
    const replacements: [string, string][] = [];
    for (const mount of container.volumeMounts ?? []) {
      const configMap = pod.spec?.volumes?.find((v) => v.name === mount.name)?.configMap;
      if (!configMap) continue;
      const hostDir = join(this.request.dir, "helper-pods", uid, mount.name);
      await mkdir(hostDir, { recursive: true });
      const source = await this.core.readNamespacedConfigMap({
        namespace: pod.metadata?.namespace as string,
        name: configMap.name as string,
      });
      const data = source.data ?? {};
      const items = configMap.items ?? Object.keys(data).map((key) => ({ key, path: key }));
      for (const item of items) await writeFile(join(hostDir, item.path), data[item.key] ?? "");
      replacements.push([mount.mountPath, hostDir]);
    }
    const argv = [...(container.command ?? []), ...(container.args ?? [])].map((arg) => {
      const match = replacements.find(([mountPath]) => arg === mountPath || arg.startsWith(`${mountPath}/`));
      return match ? match[1] + arg.slice(match[0].length) : arg;
    });
    const program = join(this.request.appletsDir, basename(argv[0] ?? ""));
    const env: Record<string, string> = { PATH: this.request.appletsDir };
    for (const variable of container.env ?? []) env[variable.name] = variable.value ?? "";
    const exitCode = existsSync(program) ? await runToEnd(program, argv.slice(1), env) : 127;
    const finishedAt = new Date();
    await this.core.patchNamespacedPodStatus(
      {
        namespace: pod.metadata?.namespace as string,
        name: pod.metadata?.name as string,
        body: {
          status: {
            phase: exitCode === 0 ? "Succeeded" : "Failed",
            containerStatuses: [
              {
                name: container.name,
                image: container.image,
                imageID: "",
                ready: false,
                restartCount: 0,
                state: {
                  terminated: {
                    exitCode,
                    reason: exitCode === 0 ? "Completed" : "Error",
                    startedAt,
                    finishedAt,
                  },
                },
              },
            ],
          },
        },
      },
      mergePatch,
    );
  }
}

function runToEnd(program: string, args: string[], env: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(program, args, { env, stdio: "ignore" });
    child.on("error", () => resolve(127));
    child.on("close", (code) => resolve(code ?? 1));
  });
}

function isLive(pod: V1Pod): boolean {
  const phase = pod.status?.phase;
  return (
    Boolean(pod.spec?.nodeName) &&
    phase !== "Succeeded" &&
    phase !== "Failed" &&
    !pod.metadata?.deletionTimestamp
  );
}

/** Pod volume name → bound PV for each PVC volume of the pod; undefined while any is unbound. */
function boundVolumesOf(
  pod: V1Pod,
  claims: V1PersistentVolumeClaim[],
  volumes: V1PersistentVolume[],
): Map<string, V1PersistentVolume> | undefined {
  const bound = new Map<string, V1PersistentVolume>();
  for (const volume of pod.spec?.volumes ?? []) {
    const claimName = volume.persistentVolumeClaim?.claimName;
    if (!claimName) continue;
    const claim = claims.find(
      (c) => c.metadata?.namespace === pod.metadata?.namespace && c.metadata?.name === claimName,
    );
    const pv = volumes.find((v) => v.metadata?.name === claim?.spec?.volumeName);
    if (claim?.status?.phase !== "Bound" || !pv) return undefined;
    bound.set(volume.name, pv);
  }
  return bound;
}
