import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { FakeNode } from "./manifests/cluster-objects.ts";
import { blockDriver, filesDriver, zones } from "./manifests/storage-objects.ts";
import type { StorageBinaries } from "./storage-binaries.ts";

// The Kubernetes half of storage for one cluster, as host processes: per driver mode one test
// CSI driver controller with its csi-provisioner, csi-snapshotter and csi-resizer on its socket, one
// snapshot-controller and one local-path-provisioner. Each runs in its own session, so its pid
// is a process group id, recorded under `<dir>/pids/` like kwokctl records its components.

export interface CsiDriverRoot {
  driverName: string;
  mode: "block" | "directory";
  /** The driver's state: volumes/<id>.img or volumes/<id>/, snapshots/…, metadata files. */
  root: string;
}

export interface StorageComponentsRequest {
  clusterName: string;
  /** Folder of this cluster's storage: driver roots, sockets, logs, pid files. */
  dir: string;
  kubeconfigPath: string;
  binaries: StorageBinaries;
  csiDriverBinary: string;
  nodes: FakeNode[];
}

/** The folder whose `pids/` lists the storage process groups of a cluster. */
export function storageDir(clusterWorkDir: string): string {
  return join(clusterWorkDir, "storage");
}

export function csiDriverRoots(dir: string): CsiDriverRoot[] {
  return [
    { driverName: blockDriver, mode: "block", root: join(dir, "drivers", "block") },
    { driverName: filesDriver, mode: "directory", root: join(dir, "drivers", "directory") },
  ];
}

/** Starts every storage process of one cluster; they run until their process groups are stopped. */
export async function startStorageComponents(request: StorageComponentsRequest): Promise<void> {
  const { dir, kubeconfigPath, binaries } = request;
  await mkdir(join(dir, "pids"), { recursive: true });
  await mkdir(join(dir, "logs"), { recursive: true });
  await mkdir(join(dir, "sockets"), { recursive: true });
  const kubeconfig = `--kubeconfig=${kubeconfigPath}`;
  for (const driver of csiDriverRoots(dir)) {
    await mkdir(driver.root, { recursive: true });
    const socket = join(dir, "sockets", `${driver.mode}.sock`);
    await startProcess(dir, `csi-driver-${driver.mode}`, request.csiDriverBinary, [
      "serve",
      `--endpoint=unix://${socket}`,
      `--driver-name=${driver.driverName}`,
      `--root=${driver.root}`,
      `--mode=${driver.mode}`,
      // The controller's own node identity (NodeGetInfo); the pods' nodes are the node shim's.
      `--node-id=${request.clusterName}-controller`,
      `--zone=${zones[0]}`,
      `--zones=${zones.join(",")}`,
    ]);
    await startProcess(dir, `csi-provisioner-${driver.mode}`, binaries.csiProvisioner, [
      kubeconfig,
      `--csi-address=${socket}`,
      "--leader-election=false",
      // GA and on by default in v6; spelled out because the zonal class depends on it.
      "--feature-gates=Topology=true",
      "--extra-create-metadata",
      "--timeout=60s",
    ]);
    await startProcess(dir, `csi-snapshotter-${driver.mode}`, binaries.csiSnapshotter, [
      kubeconfig,
      `--csi-address=${socket}`,
      "--leader-election=false",
      "--feature-gates=CSIVolumeGroupSnapshot=true",
      "--extra-create-metadata",
      "--timeout=60s",
      // Readiness of a pending (-slow) snapshot is re-checked on a backoff that doubles up to
      // 5 minutes by default; capped at 10 s, a test sees it ready seconds after it is. kubeferry's
      // own wait does not depend on how soon that is.
      "--retry-interval-max=10s",
    ]);
    // Grows a volume when its PVC asks for more (ControllerExpandVolume) and records the new size
    // on the PV, as on a real cluster; the API server refuses the PVC edit unless the class allows
    // expansion.
    await startProcess(dir, `csi-resizer-${driver.mode}`, binaries.csiResizer, [
      kubeconfig,
      `--csi-address=${socket}`,
      "--leader-election=false",
      "--timeout=60s",
      "--retry-interval-max=10s",
    ]);
  }
  await startProcess(dir, "snapshot-controller", binaries.snapshotController, [
    kubeconfig,
    "--leader-election=false",
    "--feature-gates=CSIVolumeGroupSnapshot=true",
  ]);
  await startProcess(dir, "local-path-provisioner", binaries.localPathProvisioner, ["start", kubeconfig]);
}

async function startProcess(dir: string, name: string, binary: string, args: string[]): Promise<void> {
  const log = openSync(join(dir, "logs", `${name}.log`), "a");
  const child = spawn(binary, args, { detached: true, stdio: ["ignore", log, log] });
  const pid = await new Promise<number>((resolve, reject) => {
    child.once("spawn", () => resolve(child.pid as number));
    child.once("error", (error) => reject(new Error(`cannot start ${name} (${binary}): ${error.message}`)));
  }).finally(() => closeSync(log));
  child.unref();
  await writeFile(join(dir, "pids", `${name}.pid`), String(pid));
}
