import { existsSync } from "node:fs";
import { join } from "node:path";
import { kubeferryCacheDir } from "./cache-dir.ts";
import { buildInto, type ModuleBuild, requiredVersion } from "./go-build.ts";

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
  await buildInto({
    dir,
    builds: moduleBuilds(versions),
    tag: "[k8s-binaries]",
    hint: "set KUBEFERRY_K8S_BIN to a folder with prebuilt binaries",
    log,
  });
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
