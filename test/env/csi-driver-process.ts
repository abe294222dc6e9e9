import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { onProcessExit } from "./process-groups.ts";

// Runs `kubeferry-csi-driver serve` as a child process and the driver's node commands.

export interface CsiDriverOptions {
  binary: string;
  /** Absolute path of the unix socket the driver listens on. */
  socket: string;
  driverName: string;
  root: string;
  mode: "block" | "directory";
  nodeId: string;
  zone: string;
  zones: string[];
  /** Receives the driver's stderr (one line per RPC). */
  log: (line: string) => void;
}

export interface RunningCsiDriver {
  stop(): Promise<void>;
}

export async function startCsiDriver(options: CsiDriverOptions): Promise<RunningCsiDriver> {
  const child = spawn(
    options.binary,
    [
      "serve",
      `--endpoint=unix://${options.socket}`,
      `--driver-name=${options.driverName}`,
      `--root=${options.root}`,
      `--mode=${options.mode}`,
      `--node-id=${options.nodeId}`,
      `--zone=${options.zone}`,
      `--zones=${options.zones.join(",")}`,
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  const forget = onProcessExit(() => child.kill("SIGKILL"));
  let pending = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    const lines = (pending + chunk).split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) options.log(line);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    child.kill("SIGTERM");
    await exited;
    forget();
  };
  try {
    await waitForSocket(child, options.socket);
  } catch (error) {
    await stop();
    throw error;
  }
  return { stop };
}

async function waitForSocket(child: ChildProcess, socket: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!existsSync(socket)) {
    if (child.exitCode !== null)
      throw new Error(`kubeferry-csi-driver exited (${child.exitCode}) before listening on ${socket}`);
    if (Date.now() > deadline)
      throw new Error(`kubeferry-csi-driver did not listen on ${socket} within 10 s`);
    await sleep(50);
  }
}

/** Runs a node-* command of the driver; returns its stdout, or throws with its one-line stderr. */
export async function csiDriverCommand(binary: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)(binary, args);
    return stdout.trim();
  } catch (error) {
    const { stderr, code } = error as { stderr?: string; code?: number };
    throw new Error(`kubeferry-csi-driver ${args.join(" ")} failed (exit ${code}): ${stderr?.trim()}`);
  }
}
