import { existsSync } from "node:fs";
import { copyFile, mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import { kubeferryCacheDir } from "./cache-dir.ts";
import { buildInto, goCommand, type ModuleBuild, requiredVersion } from "./go-build.ts";

/** The upstream Kubernetes half of storage, run as host processes beside each local cluster. */
export interface StorageBinaries {
  dir: string;
  csiProvisioner: string;
  snapshotController: string;
  csiSnapshotter: string;
  csiResizer: string;
  localPathProvisioner: string;
  /** external-snapshotter's CRD YAMLs (snapshot and group snapshot API) of the same release. */
  snapshotCrdsDir: string;
}

const provisionerModule = "github.com/kubernetes-csi/external-provisioner/v6";
const snapshotterModule = "github.com/kubernetes-csi/external-snapshotter/v8";
const snapshotClientModule = "github.com/kubernetes-csi/external-snapshotter/client/v8";
const resizerModule = "github.com/kubernetes-csi/external-resizer";
const localPathModule = "github.com/rancher/local-path-provisioner";

/**
 * Returns csi-provisioner, snapshot-controller, csi-snapshotter, csi-resizer and
 * local-path-provisioner, built
 * from the wrapper modules in test/env/go/ on first use and cached by their versions.
 */
export async function ensureStorageBinaries(
  log: (line: string) => void = (line) => console.error(line),
): Promise<StorageBinaries> {
  const versions = {
    provisioner: await requiredVersion("csi-provisioner", provisionerModule),
    snapshotter: await requiredVersion("external-snapshotter", snapshotterModule),
    resizer: await requiredVersion("external-resizer", resizerModule),
    localPath: await requiredVersion("local-path-provisioner", localPathModule),
  };
  const dir = join(
    kubeferryCacheDir(),
    "bin",
    `provisioner-${versions.provisioner}_snapshotter-${versions.snapshotter}_resizer-${versions.resizer}_local-path-${versions.localPath}`,
  );
  if (!existsSync(dir)) {
    await buildInto({
      dir,
      builds: moduleBuilds(),
      tag: "[storage-binaries]",
      hint: "delete the Go module cache entry it names and retry",
      complete: copySnapshotCrds,
      log,
    });
  }
  const binaries: StorageBinaries = {
    dir,
    csiProvisioner: join(dir, "csi-provisioner"),
    snapshotController: join(dir, "snapshot-controller"),
    csiSnapshotter: join(dir, "csi-snapshotter"),
    csiResizer: join(dir, "csi-resizer"),
    localPathProvisioner: join(dir, "local-path-provisioner"),
    snapshotCrdsDir: join(dir, "snapshot-crds"),
  };
  const missing = Object.values(binaries).filter((path) => !existsSync(path));
  if (missing.length > 0) {
    throw new Error(
      `the storage binary cache ${dir} lacks ${missing.join(", ")}; delete the folder to rebuild`,
    );
  }
  return binaries;
}

function moduleBuilds(): ModuleBuild[] {
  // The provisioner, the snapshotter and the resizer pin different Kubernetes libraries (v0.36,
  // v0.37 and v0.33 through their replace directives), so each has its own wrapper module.
  return [
    { module: "csi-provisioner", packages: [`${provisionerModule}/cmd/csi-provisioner`], ldflags: "-s -w" },
    {
      module: "external-snapshotter",
      packages: [`${snapshotterModule}/cmd/snapshot-controller`, `${snapshotterModule}/cmd/csi-snapshotter`],
      ldflags: "-s -w",
    },
    { module: "external-resizer", packages: [`${resizerModule}/cmd/csi-resizer`], ldflags: "-s -w" },
    { module: "local-path-provisioner", packages: [localPathModule], ldflags: "-s -w" },
  ];
}

/** The CRDs ship in the client module (config/crd); copied from the module cache, never committed. */
async function copySnapshotCrds(staging: string): Promise<void> {
  const listed = await goCommand(
    ["list", "-m", "-f", "{{.Dir}}", snapshotClientModule],
    "external-snapshotter",
  );
  const moduleDir = listed.stdout.trim();
  if (listed.code !== 0 || !moduleDir) {
    throw new Error(`cannot locate ${snapshotClientModule} in the Go module cache: ${listed.stderr}`);
  }
  const crdDir = join(moduleDir, "config", "crd");
  await mkdir(join(staging, "snapshot-crds"));
  // One file per CRD (`<group>_<plural>.yaml`); the kustomization and its sub-folders are not needed.
  for (const file of (await readdir(crdDir)).filter((name) => name.includes(".storage.k8s.io_"))) {
    await copyFile(join(crdDir, file), join(staging, "snapshot-crds", file));
  }
}
