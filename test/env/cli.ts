// `npm run env:up [-- --json] [-- --link idle=60,bandwidth=20MiB,latency=20ms]` / `npm run env:down`:
// keeps a local environment (source and destination clusters with their storage components and
// node shims, MinIO for S3, moto for the other AWS services) running in a detached process for manual work and the demo.
// `up` prepares the cached binaries in the foreground (showing build progress), then starts `serve`
// detached and waits for the state file it writes when ready. `--link` puts a link proxy in front of
// the destination cluster: its kubeconfig then points at the proxy.
import { spawn } from "node:child_process";
import { existsSync, openSync, readFileSync, rmSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ensureBusybox } from "./busybox.ts";
import { kubeferryCacheDir } from "./cache-dir.ts";
import { type LocalCluster, startClusters } from "./clusters.ts";
import { ensureCsiDriverBinary } from "./csi-driver-binary.ts";
import { ensureKubernetesBinaries } from "./k8s-binaries.ts";
import { componentPids, kwokctlClusterDir } from "./kwokctl-cluster.ts";
import { parseLinkSpec } from "./link-proxy.ts";
import { linkClusters } from "./linked-clusters.ts";
import type { StorageClassTraits } from "./manifests/storage-objects.ts";
import { ensureMinioBinary, type MinioServer, startMinio } from "./minio.ts";
import { ensureMotoEnv, startMoto } from "./moto.ts";
import { cleanupDriverRootsNow } from "./node-shim.ts";
import { isAlive, stopProcessGroups } from "./process-groups.ts";
import { ensureStorageBinaries } from "./storage-binaries.ts";
import { csiDriverRoots, storageDir } from "./storage-components.ts";

interface EnvState {
  pid: number;
  workDir: string;
  clusters: Record<string, ClusterEntry>;
  s3: {
    endpoint: string;
    server: MinioServer["server"];
    bucket: string;
    region: string;
    accessKeyId: string;
    secretAccessKey: string;
  };
  aws: { endpoint: string; region: string };
}

interface ClusterEntry {
  kubeconfig: string;
  limitedKubeconfig: string;
  server: string;
  storageClasses: StorageClassTraits[];
  /** The link spec the proxy in front of this cluster applies, when there is one. */
  link?: string;
}

const stateDir = join(kubeferryCacheDir(), "env");
const stateFile = join(stateDir, "state.json");
const logFile = join(stateDir, "serve.log");
const clusterNames = ["source", "destination"];
const readyTimeoutMs = 180_000;

async function up(json: boolean, link: string | undefined): Promise<void> {
  // A bad spec is refused here, before anything starts.
  if (link !== undefined) parseLinkSpec(link);
  const running = await runningState();
  if (running) {
    const current = running.clusters.destination?.link;
    if (link !== undefined && link !== current) {
      console.error(`[env] already running with link ${current ?? "none"}; npm run env:down to change it`);
    }
  } else {
    await ensureKubernetesBinaries();
    await ensureBusybox();
    await ensureStorageBinaries();
    await ensureCsiDriverBinary();
    await ensureMinioBinary();
    await ensureMotoEnv();
    await mkdir(stateDir, { recursive: true });
    await rm(stateFile, { force: true });
    const log = openSync(logFile, "w");
    const server = spawn(
      process.execPath,
      [
        "--import",
        createRequire(import.meta.url).resolve("tsx"),
        fileURLToPath(import.meta.url),
        "serve",
        ...(link !== undefined ? ["--link", link] : []),
      ],
      { detached: true, stdio: ["ignore", log, log] },
    );
    server.unref();
    console.error(`[env] starting clusters, MinIO and moto (log: ${logFile})`);
    await waitForState(server.pid as number);
  }
  const state = (await runningState()) as EnvState;
  // With --json, stdout carries the one JSON object and nothing else.
  const say = json ? console.error : console.log;
  for (const [name, cluster] of Object.entries(state.clusters)) {
    say(
      `${name}: ${cluster.server}${cluster.link ? ` (through link ${cluster.link})` : ""}  kubeconfig ${cluster.kubeconfig}  (limited: ${cluster.limitedKubeconfig})`,
    );
    say(`  storage classes: ${cluster.storageClasses.map((c) => c.name).join(", ")}`);
  }
  say(`s3: ${state.s3.endpoint} (${state.s3.server}, bucket ${state.s3.bucket})`);
  say(`aws: ${state.aws.endpoint} (${state.aws.region})`);
  say("stop with: npm run env:down");
  if (json) console.log(JSON.stringify(envJson(state)));
}

/** What `env:up --json` prints: the S3 server apart from the AWS emulator, and each cluster. */
function envJson(state: EnvState) {
  return {
    s3: state.s3,
    aws: state.aws,
    clusters: Object.fromEntries(
      Object.entries(state.clusters).map(([name, cluster]) => [
        name,
        {
          kubeconfig: cluster.kubeconfig,
          server: cluster.server,
          storageClasses: cluster.storageClasses,
          ...(cluster.link && { link: cluster.link }),
        },
      ]),
    ),
  };
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

/** The detached process: owns the clusters, MinIO and moto until it is signalled (env:down). */
async function serve(link: string | undefined): Promise<void> {
  const [direct, minio, moto] = await Promise.all([startClusters(clusterNames), startMinio(), startMoto()]);
  const env = await linkClusters(direct, link !== undefined ? { destination: parseLinkSpec(link) } : {});
  process.on("exit", () => rmSync(stateFile, { force: true }));
  const entry = (cluster: LocalCluster): ClusterEntry => ({
    kubeconfig: cluster.kubeconfigPath,
    limitedKubeconfig: cluster.limitedKubeconfigPath,
    server: cluster.server,
    storageClasses: cluster.storageClasses,
    ...(env.proxies[cluster.name] && { link }),
  });
  const state: EnvState = {
    pid: process.pid,
    workDir: env.workDir,
    clusters: Object.fromEntries(env.clusters.map((cluster) => [cluster.name, entry(cluster)])),
    s3: {
      endpoint: minio.endpoint,
      server: minio.server,
      bucket: minio.bucket,
      region: minio.region,
      accessKeyId: minio.credentials.accessKeyId,
      secretAccessKey: minio.credentials.secretAccessKey,
    },
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

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { json: { type: "boolean", default: false }, link: { type: "string" } },
});
const [command] = positionals;
if (command === "up") {
  await up(values.json, values.link);
} else if (command === "down") {
  await down();
} else if (command === "serve") {
  await serve(values.link);
} else {
  console.error(
    "usage: tsx test/env/cli.ts up [--json] [--link idle=60,bandwidth=20MiB,latency=20ms] | down",
  );
  process.exitCode = 2;
}
