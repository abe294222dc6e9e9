import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { stringify } from "yaml";
import { freeLoopbackPorts } from "./free-ports.ts";
import type { KubernetesBinaries } from "./k8s-binaries.ts";

/** One control plane as kwokctl started it: etcd, kube-apiserver, controller manager, scheduler, kwok. */
export interface KwokctlCluster {
  name: string;
  apiserverPort: number;
  caCertPath: string;
}

export interface KwokctlClusterRequest {
  name: string;
  /** Used as KWOK_WORKDIR, so clusters of different environments never see each other. */
  workDir: string;
  tokenFile: string;
  binaries: KubernetesBinaries;
  /**
   * PATH of the kwok controller. kwok resolves an exec'd command's argv[0] with its own PATH
   * (Go's exec.LookPath), not the Exec's env, so this decides which tools pods run.
   */
  execPath: string;
  /**
   * Each cluster of an environment gets its own range, so a Service's cluster IP copied from the
   * other cluster is refused on apply instead of matching by chance.
   */
  serviceClusterIpRange: string;
}

/** Creates and starts one cluster with `kwokctl create cluster --runtime binary`. */
export async function createKwokctlCluster(request: KwokctlClusterRequest): Promise<KwokctlCluster> {
  const { name, workDir, binaries } = request;
  await mkdir(workDir, { recursive: true });
  // kwokctl would otherwise pick ports by counting down from 32765, which races between clusters.
  const [apiserver, etcd, etcdPeer, controllerManager, scheduler, kwokController] =
    await freeLoopbackPorts(6);
  const configPath = join(workDir, "kwokctl.yaml");
  await writeFile(
    configPath,
    stringify({
      apiVersion: "config.kwok.x-k8s.io/v1alpha1",
      kind: "KwokctlConfiguration",
      options: {
        runtime: "binary",
        bindAddress: "127.0.0.1",
        securePort: true,
        kubeAuthorization: true,
        kubeAdmission: true,
        kubeApiserverPort: apiserver,
        etcdPort: etcd,
        etcdPeerPort: etcdPeer,
        kubeControllerManagerPort: controllerManager,
        kubeSchedulerPort: scheduler,
        kwokControllerPort: kwokController,
        kubeApiserverBinary: binaries.kubeApiserver,
        kubeControllerManagerBinary: binaries.kubeControllerManager,
        kubeSchedulerBinary: binaries.kubeScheduler,
        kubectlBinary: binaries.kubectl,
        etcdBinary: binaries.etcd,
        kwokControllerBinary: binaries.kwok,
        cacheDir: join(workDir, "cache"),
        // Exec objects written by the node shim and tests are read from the API server.
        enableCRDs: ["Exec", "ClusterExec"],
      },
      componentsPatches: [
        {
          name: "kube-apiserver",
          extraArgs: [
            { key: "token-auth-file", value: request.tokenFile },
            { key: "service-cluster-ip-range", value: request.serviceClusterIpRange },
          ],
        },
        { name: "kwok-controller", extraEnvs: [{ name: "PATH", value: request.execPath }] },
      ],
    }),
  );
  const logPath = join(workDir, "kwokctl.log");
  const clusterDir = kwokctlClusterDir(workDir, name);
  const args = ["--name", name, "--config", configPath, "create", "cluster", "--kubeconfig=", "--wait=120s"];
  const code = await runLogged(binaries.kwokctl, args, { ...process.env, KWOK_WORKDIR: workDir }, logPath);
  if (code !== 0) {
    throw new Error(
      `kwokctl could not start cluster "${name}" (exit ${code}); its output and the component logs follow. ` +
        `Logs are kept in ${workDir}.\n${await failureReport(logPath, clusterDir)}`,
    );
  }
  return {
    name,
    apiserverPort: apiserver as number,
    caCertPath: join(clusterDir, "pki", "ca.crt"),
  };
}

/** Where kwokctl keeps a cluster created with this work dir: pki/, logs/, pids/, etcd data. */
export function kwokctlClusterDir(workDir: string, name: string): string {
  return join(workDir, "clusters", name);
}

/** Process group ids of the cluster's components, from kwokctl's pid files. */
export function componentPids(clusterDir: string): number[] {
  const pidsDir = join(clusterDir, "pids");
  let files: string[];
  try {
    files = readdirSync(pidsDir);
  } catch {
    return [];
  }
  return files
    .map((file) => Number.parseInt(readFileSync(join(pidsDir, file), "utf8"), 10))
    .filter((pid) => Number.isInteger(pid) && pid > 0);
}

function runLogged(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  logPath: string,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    const chunks: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => chunks.push(chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      writeFile(logPath, Buffer.concat(chunks)).then(
        () => resolve(code ?? 1),
        () => resolve(code ?? 1),
      );
    });
  });
}

async function failureReport(logPath: string, clusterDir: string): Promise<string> {
  const parts = [`--- kwokctl\n${tail(await readFile(logPath, "utf8").catch(() => ""))}`];
  const logsDir = join(clusterDir, "logs");
  let logs: string[] = [];
  try {
    logs = readdirSync(logsDir);
  } catch {
    // kwokctl failed before it started any component.
  }
  for (const log of logs) {
    parts.push(`--- ${log}\n${tail(await readFile(join(logsDir, log), "utf8").catch(() => ""))}`);
  }
  return parts.join("\n");
}

function tail(text: string, lines = 25): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}
