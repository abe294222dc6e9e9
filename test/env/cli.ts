// `npm run env:up [-- --json]` / `npm run env:down`: keeps a local environment (source and
// destination clusters with their storage components and node shims, and moto) running in a detached process for
// manual work and the demo. `up` prepares the cached binaries in the foreground (showing build
// progress), then starts `serve` detached and waits for the state file it writes when ready.
import { spawn } from "node:child_process";
import { existsSync, openSync, readFileSync, rmSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { ensureBusybox } from "./busybox.ts";
import { kubeferryCacheDir } from "./cache-dir.ts";
import { startClusters } from "./clusters.ts";
import { ensureCsiDriverBinary } from "./csi-driver-binary.ts";
import { ensureKubernetesBinaries } from "./k8s-binaries.ts";
import { componentPids, kwokctlClusterDir } from "./kwokctl-cluster.ts";
import type { StorageClassTraits } from "./manifests/storage-objects.ts";
import { ensureMotoEnv, startMoto } from "./moto.ts";
import { cleanupDriverRootsNow } from "./node-shim.ts";
import { isAlive, stopProcessGroups } from "./process-groups.ts";
import { ensureStorageBinaries } from "./storage-binaries.ts";
import { csiDriverRoots, storageDir } from "./storage-components.ts";

interface EnvState {
  pid: number;
  workDir: string;
  clusters: Record<
    string,
    { kubeconfig: string; limitedKubeconfig: string; server: string; storageClasses: StorageClassTraits[] }
  >;
  aws: { endpoint: string; region: string };
}

const stateDir = join(kubeferryCacheDir(), "env");
const stateFile = join(stateDir, "state.json");
const logFile = join(stateDir, "serve.log");
const clusterNames = ["source", "destination"];
const readyTimeoutMs = 180_000;

async function up(json: boolean): Promise<void> {
  const running = await runningState();
  if (!running) {
    await ensureKubernetesBinaries();
    await ensureBusybox();
    await ensureStorageBinaries();
    await ensureCsiDriverBinary();
    await ensureMotoEnv();
    await mkdir(stateDir, { recursive: true });
    await rm(stateFile, { force: true });
    const log = openSync(logFile, "w");
    const server = spawn(
      process.execPath,
      ["--import", createRequire(import.meta.url).resolve("tsx"), fileURLToPath(import.meta.url), "serve"],
      { detached: true, stdio: ["ignore", log, log] },
    );
    server.unref();
    console.error(`[env] starting clusters and moto (log: ${logFile})`);
    await waitForState(server.pid as number);
  }
  const state = (await runningState()) as EnvState;
  // With --json, stdout carries exactly one JSON object; the human lines go to stderr.
  const human = json ? console.error : console.log;
  for (const [name, cluster] of Object.entries(state.clusters)) {
    human(
      `${name}: ${cluster.server}  kubeconfig ${cluster.kubeconfig}  (limited: ${cluster.limitedKubeconfig})`,
    );
    human(`  storage classes: ${cluster.storageClasses.map((c) => c.name).join(", ")}`);
  }
  human(`aws: ${state.aws.endpoint} (${state.aws.region})`);
  human("stop with: npm run env:down");
  if (json) console.log(JSON.stringify(jsonSummary(state)));
}

/** The machine-readable description of a running environment (`env:up --json`). */
function jsonSummary(state: EnvState): Record<string, unknown> {
  const clusters = Object.fromEntries(
    Object.entries(state.clusters).map(([name, cluster]) => [
      name,
      { kubeconfig: cluster.kubeconfig, storageClasses: cluster.storageClasses },
    ]),
  );
  return { clusters, aws: state.aws };
}

async function waitForState(serverPid: number): Promise<void> {
  const deadline = Date.now() + readyTimeoutMs;
  while (Date.now() < deadline) {
    const state = await readState();
    if (state?.pid === serverPid) return;
    if (!isAlive(serverPid)) break;
    await sleep(250);
  }
  throw new Error(`the environment did not start; see ${logFile}:\n${tail(readFileSync(logFile, "utf8"))}`);
}

/** The detached process: owns the clusters and moto until it is signalled (env:down). */
async function serve(): Promise<void> {
  const env = await startClusters(clusterNames);
  const moto = await startMoto();
  process.on("exit", () => rmSync(stateFile, { force: true }));
  const state: EnvState = {
    pid: process.pid,
    workDir: env.workDir,
    clusters: Object.fromEntries(
      env.clusters.map((cluster) => [
        cluster.name,
        {
          kubeconfig: cluster.kubeconfigPath,
          limitedKubeconfig: cluster.limitedKubeconfigPath,
          server: cluster.server,
          storageClasses: cluster.storageClasses,
        },
      ]),
    ),
    aws: { endpoint: moto.endpoint, region: moto.region },
  };
  await writeFile(`${stateFile}.tmp`, JSON.stringify(state, null, 2));
  await rename(`${stateFile}.tmp`, stateFile);
  console.error(`[env] ready: ${JSON.stringify(state)}`);
  // Stay alive: the node shims run in this process.
  setInterval(() => {}, 60_000);
}

async function down(): Promise<void> {
  const state = await readState();
  if (!state) {
    console.log("no environment is running");
    return;
  }
  if (isAlive(state.pid)) {
    process.kill(state.pid, "SIGTERM");
    const deadline = Date.now() + 30_000;
    while (isAlive(state.pid) && Date.now() < deadline) await sleep(200);
  }
  // If the server died without cleaning up, its clusters' pid files still say what to stop.
  const leftovers = clusterNames.flatMap((name) => [
    ...componentPids(kwokctlClusterDir(join(state.workDir, name), name)),
    ...componentPids(storageDir(join(state.workDir, name))),
  ]);
  await stopProcessGroups(leftovers);
  cleanupDriverRootsNow(
    await ensureCsiDriverBinary(),
    clusterNames.flatMap((name) => csiDriverRoots(storageDir(join(state.workDir, name)))),
  );
  await rm(state.workDir, { recursive: true, force: true });
  await rm(stateFile, { force: true });
  console.log("environment stopped");
}

async function readState(): Promise<EnvState | undefined> {
  if (!existsSync(stateFile)) return undefined;
  return JSON.parse(await readFile(stateFile, "utf8")) as EnvState;
}

async function runningState(): Promise<EnvState | undefined> {
  const state = await readState();
  return state && isAlive(state.pid) ? state : undefined;
}

function tail(text: string, lines = 30): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

const [command, ...flags] = process.argv.slice(2);
if (command === "up") {
  await up(flags.includes("--json"));
} else if (command === "down") {
  await down();
} else if (command === "serve") {
  await serve();
} else {
  console.error("usage: tsx test/env/cli.ts up [--json] | down");
  process.exitCode = 2;
}
