import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { kubeferryCacheDir } from "./cache-dir.ts";
import { ensureDebianPackage } from "./debian-packages.ts";
import { buildInto, requiredVersion, wrapperModulesDir } from "./go-build.ts";

// The test CSI driver (test/env/go/csi-driver) and csi-sanity, the CSI conformance suite that
// checks it, built with `go build -trimpath` into the kubeferry cache.

const driverModule = "csi-driver";
const sanityModule = "csi-sanity";
const csiTestModule = "github.com/kubernetes-csi/csi-test/v5";

/**
 * Returns the path of `kubeferry-csi-driver`, building it on first use. The cache folder is keyed
 * by a hash of the driver's sources, so an edit of the driver builds it again.
 */
export async function ensureCsiDriverBinary(
  log: (line: string) => void = (line) => console.error(line),
): Promise<string> {
  // The driver formats Filesystem volumes with the host's mkfs: ext3/ext4 come with e2fsprogs,
  // xfs (EKS and RHEL users' default) needs its own package.
  ensureDebianPackage("xfsprogs", "/usr/sbin/mkfs.xfs", log);
  const dir = join(kubeferryCacheDir(), "bin", `csi-driver-${await driverSourceHash()}`);
  return ensureBuilt(dir, driverModule, "kubeferry-csi-driver", ".", log);
}

/** Returns the path of `csi-sanity` at the version test/env/go/csi-sanity/go.mod pins. */
export async function ensureCsiSanityBinary(
  log: (line: string) => void = (line) => console.error(line),
): Promise<string> {
  const version = await requiredVersion(sanityModule, csiTestModule);
  const dir = join(kubeferryCacheDir(), "bin", `csi-sanity-${version}`);
  return ensureBuilt(dir, sanityModule, "csi-sanity", `${csiTestModule}/cmd/csi-sanity`, log);
}

async function ensureBuilt(
  dir: string,
  module: string,
  name: string,
  goPackage: string,
  log: (line: string) => void,
): Promise<string> {
  const binary = join(dir, name);
  if (!existsSync(dir)) {
    await buildInto({
      dir,
      builds: [{ module, packages: [goPackage], ldflags: "-s -w" }],
      tag: `[${name}]`,
      hint: `delete ${dir} and the Go module cache entry the error names, then retry`,
      log,
    });
  }
  if (!existsSync(binary)) {
    throw new Error(`the cache folder ${dir} lacks ${name}; delete the folder to rebuild`);
  }
  return binary;
}

/** Hash of go.mod, go.sum and the non-test Go files of the driver module. */
async function driverSourceHash(): Promise<string> {
  const moduleDir = join(wrapperModulesDir, driverModule);
  const names = (await readdir(moduleDir))
    .filter(
      (name) =>
        name === "go.mod" || name === "go.sum" || (name.endsWith(".go") && !name.endsWith("_test.go")),
    )
    .sort();
  const hash = createHash("sha256");
  for (const name of names) {
    hash
      .update(`${name}\0`)
      .update(await readFile(join(moduleDir, name)))
      .update("\0");
  }
  return hash.digest("hex").slice(0, 16);
}
