import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import type { Socket } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { kubeferryCacheDir } from "./cache-dir.ts";
import { freeLoopbackPorts } from "./free-ports.ts";

export interface MotoServer {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Forgets every bucket, key and object (POST /moto-api/reset). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

const pythonDir = join(dirname(fileURLToPath(import.meta.url)), "python");
const requirementsFile = join(pythonDir, "requirements.txt");
const watchedServerScript = join(pythonDir, "moto_server_watched.py");
const readyMarker = "kubeferry-ready.json";

/** The pinned moto version; requirements.txt is the single place it is written. */
export function motoVersion(): string {
  const requirements = readFileSync(requirementsFile, "utf8");
  const version = /^moto\[server\]==(\S+)$/m.exec(requirements)?.[1];
  if (version === undefined) {
    throw new Error(`${requirementsFile} must pin moto as "moto[server]==<version>"`);
  }
  return version;
}

/**
 * Creates (once) a Python virtual environment with the pinned moto and returns its directory.
 * It lives outside the repository, keyed by the moto version, so clones and versions share
 * nothing stale. The ready marker is written last: an interrupted install is redone.
 */
export async function ensureMotoEnv(): Promise<string> {
  const version = motoVersion();
  const venv = join(kubeferryCacheDir(), `moto-${version}`);
  if (existsSync(join(venv, readyMarker))) return venv;

  const python = process.env.KUBEFERRY_PYTHON ?? "python3";
  log(`creating a Python virtual environment for moto ${version} in ${venv}`);
  await rm(venv, { recursive: true, force: true });
  await mkdir(dirname(venv), { recursive: true });
  await run(python, ["-m", "venv", venv]);
  log(`installing moto[server]==${version} from PyPI (takes a minute the first time)`);
  await run(join(venv, "bin", "pip"), [
    "install",
    "--disable-pip-version-check",
    "--progress-bar",
    "off",
    "-r",
    requirementsFile,
  ]);
  await writeFile(join(venv, readyMarker), JSON.stringify({ moto: version, createdAt: new Date() }));
  log(`moto ${version} ready`);
  return venv;
}

/** Starts a moto server on a free loopback port and waits until it answers. */
export async function startMoto(): Promise<MotoServer> {
  const venv = await ensureMotoEnv();
  const [port] = await freeLoopbackPorts(1);
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn(
    join(venv, "bin", "python"),
    [watchedServerScript, "-p", String(port), "-H", "127.0.0.1"],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderrTail = "";
  child.stderr?.on("data", (data: Buffer) => {
    stderrTail = (stderrTail + data.toString()).slice(-4000);
  });
  // The server never keeps the test process alive; when that process exits, the server goes too.
  child.unref();
  (child.stderr as Socket | null)?.unref();
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);

  try {
    await waitUntilAnswering(endpoint, child, () => stderrTail);
  } catch (error) {
    child.kill("SIGKILL");
    process.removeListener("exit", killOnExit);
    throw error;
  }

  return {
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    async reset() {
      const response = await fetch(`${endpoint}/moto-api/reset`, { method: "POST" });
      if (!response.ok) throw new Error(`moto reset at ${endpoint} answered ${response.status}`);
    },
    async stop() {
      process.removeListener("exit", killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

async function waitUntilAnswering(endpoint: string, child: ChildProcess, stderr: () => string) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`moto_server exited with code ${child.exitCode} before answering:\n${stderr()}`);
    }
    try {
      await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) });
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`moto_server did not answer at ${endpoint} within 60 s:\n${stderr()}`);
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    // pip's output goes to stderr so progress shows without polluting a caller's stdout.
    const child = spawn(command, args, { stdio: ["ignore", process.stderr, process.stderr] });
    child.once("error", reject);
    child.once("exit", (code) => {
      if (code === 0) resolve();
      else reject(new Error(`${command} ${args.join(" ")} failed with exit code ${code}`));
    });
  });
}

function log(message: string) {
  process.stderr.write(`[moto] ${message}\n`);
}
