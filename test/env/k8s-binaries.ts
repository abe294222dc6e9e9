import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { kubeferryCacheDir } from "./cache-dir.ts";

export interface KubernetesBinaries {
  dir: string;
  kubeApiserver: string;
  kubeControllerManager: string;
  kubeScheduler: string;
  kubectl: string;
  etcd: string;
  kwok: string;
  kwokctl: string;
}

interface PinnedVersions {
  kubernetes: string;
  etcd: string;
  kwok: string;
}

interface ModuleBuild {
  module: string;
  packages: string[];
  ldflags: string;
}

const wrapperModulesDir = join(dirname(fileURLToPath(import.meta.url)), "go");

const binaryNames = {
  kubeApiserver: "kube-apiserver",
  kubeControllerManager: "kube-controller-manager",
  kubeScheduler: "kube-scheduler",
  kubectl: "kubectl",
  etcd: "etcd",
  kwok: "kwok",
  kwokctl: "kwokctl",
} as const;

/**
 * Returns the Kubernetes, etcd and KWOK binaries, building them from the wrapper Go modules
 * on first use. `KUBEFERRY_K8S_BIN` may name a folder that already holds them.
 */
export async function ensureKubernetesBinaries(
  log: (line: string) => void = (line) => console.error(line),
): Promise<KubernetesBinaries> {
  const given = process.env.KUBEFERRY_K8S_BIN;
  if (given) {
    return checkedBinaries(given, "KUBEFERRY_K8S_BIN");
  }
  const versions = await readPinnedVersions();
  const dir = join(kubeferryCacheDir(), "bin", versionSet(versions));
  if (existsSync(dir)) {
    return checkedBinaries(dir, "the binary cache (delete it to rebuild)");
  }
  await buildInto(dir, versions, log);
  return checkedBinaries(dir, "the fresh build");
}

function versionSet(versions: PinnedVersions): string {
  return `k8s-${versions.kubernetes}_etcd-${versions.etcd}_kwok-${versions.kwok}`;
}

async function readPinnedVersions(): Promise<PinnedVersions> {
  return {
    kubernetes: await requiredVersion("kubernetes", "k8s.io/kubernetes"),
    etcd: await requiredVersion("etcd", "go.etcd.io/etcd/server/v3"),
    kwok: await requiredVersion("kwok", "sigs.k8s.io/kwok"),
  };
}

async function requiredVersion(module: string, path: string): Promise<string> {
  const goMod = await readFile(join(wrapperModulesDir, module, "go.mod"), "utf8");
  const escaped = path.replaceAll(".", "\\.");
  const match = goMod.match(new RegExp(`^\\s*(?:require\\s+)?${escaped} v(\\S+)`, "m"));
  if (!match?.[1]) {
    throw new Error(`test/env/go/${module}/go.mod does not require ${path}; restore the require line`);
  }
  return match[1];
}

async function buildInto(dir: string, versions: PinnedVersions, log: (line: string) => void): Promise<void> {
  await mkdir(dirname(dir), { recursive: true });
  // Build beside the final folder and rename, so an interrupted build never looks complete.
  const staging = await mkdtemp(`${dir}.building-`);
  try {
    for (const build of moduleBuilds(versions)) {
      await goBuild(build, staging, log);
    }
    await rename(staging, dir).catch(async (error: NodeJS.ErrnoException) => {
      // Another process finished the same build first; its result is as good as ours.
      if (error.code !== "ENOTEMPTY" && error.code !== "EEXIST") throw error;
      await rm(staging, { recursive: true, force: true });
    });
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}

function moduleBuilds(versions: PinnedVersions): ModuleBuild[] {
  const [major, minor] = versions.kubernetes.split(".");
  // kwokctl reads `--version` of each binary to choose flags, so the real release must be stamped in.
  const stamp = ["k8s.io/component-base/version", "k8s.io/client-go/pkg/version"].flatMap((pkg) => [
    `-X ${pkg}.gitVersion=v${versions.kubernetes}`,
    `-X ${pkg}.gitMajor=${major}`,
    `-X ${pkg}.gitMinor=${minor}`,
    `-X ${pkg}.gitTreeState=clean`,
  ]);
  return [
    {
      module: "kubernetes",
      packages: ["kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl"].map(
        (name) => `k8s.io/kubernetes/cmd/${name}`,
      ),
      ldflags: ["-s -w", ...stamp].join(" "),
    },
    { module: "etcd", packages: ["."], ldflags: "-s -w" },
    {
      module: "kwok",
      packages: ["sigs.k8s.io/kwok/cmd/kwok", "sigs.k8s.io/kwok/cmd/kwokctl"],
      ldflags: "-s -w",
    },
  ];
}

async function goBuild(build: ModuleBuild, outDir: string, log: (line: string) => void): Promise<void> {
  const started = Date.now();
  const elapsed = () => `${Math.round((Date.now() - started) / 1000)}s`;
  log(`[k8s-binaries] building ${build.module} (${build.packages.join(", ")}); a cold build takes minutes`);
  const ticker = setInterval(
    () => log(`[k8s-binaries] still building ${build.module} (${elapsed()})`),
    30_000,
  );
  try {
    const args = ["build", "-trimpath", `-ldflags=${build.ldflags}`, "-o", `${outDir}/`, ...build.packages];
    const output = await run("go", args, join(wrapperModulesDir, build.module), {
      ...process.env,
      GOFLAGS: "-mod=mod -buildvcs=false",
    });
    if (output.code !== 0) {
      throw new Error(
        `go build of test/env/go/${build.module} failed (exit ${output.code}); fix the wrapper module ` +
          `or set KUBEFERRY_K8S_BIN to a folder with prebuilt binaries.\n${output.stderr}`,
      );
    }
  } finally {
    clearInterval(ticker);
  }
  log(`[k8s-binaries] built ${build.module} in ${elapsed()}`);
}

function run(
  command: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.on("error", (error) =>
      reject(
        new Error(`cannot run ${command} (${error.message}); install Go 1.26 or newer and put it on PATH`),
      ),
    );
    child.on("close", (code) => resolve({ code: code ?? 1, stderr }));
  });
}

function checkedBinaries(dir: string, origin: string): KubernetesBinaries {
  const paths = Object.fromEntries(
    Object.entries(binaryNames).map(([key, name]) => [key, join(dir, name)]),
  ) as Omit<KubernetesBinaries, "dir">;
  const missing = Object.values(binaryNames).filter((name) => !existsSync(join(dir, name)));
  if (missing.length > 0) {
    throw new Error(`${origin} (${dir}) lacks ${missing.join(", ")}; put them there or remove the folder`);
  }
  return { dir, ...paths };
}
