import { readFileSync } from "node:fs";
import { constants } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";

// kwokctl starts every component with setsid, so each pid is also the id of a process group that
// holds the component and anything it spawned (kwok runs exec commands as its own children).

export function isAlive(pid: number): boolean {
  if (process.platform === "linux") {
    // A zombie still answers kill(pid, 0); whether it is ever reaped depends on the init process.
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      return stat[stat.lastIndexOf(")") + 2] !== "Z";
    } catch {
      return false;
    }
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is gone already.
  }
}

/**
 * Terminates the groups politely, then kills what is left after `graceMs`, and returns once every
 * leader is gone (a killed process blocked in I/O, e.g. etcd in fsync, lingers a moment). The
 * grace is short on purpose: the API server and etcd take many seconds to shut down gracefully,
 * and nothing of a test cluster is kept.
 */
export async function stopProcessGroups(pids: number[], graceMs = 1_000): Promise<void> {
  for (const pid of pids) signalGroup(pid, "SIGTERM");
  await waitUntilGone(pids, graceMs);
  for (const pid of pids) signalGroup(pid, "SIGKILL");
  await waitUntilGone(pids, 10_000);
  const left = pids.filter(isAlive);
  if (left.length > 0) throw new Error(`processes ${left.join(", ")} survived SIGKILL for 10 s`);
}

async function waitUntilGone(pids: number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (pids.some(isAlive) && Date.now() < deadline) await sleep(100);
}

const exitCleanups = new Set<() => void>();
let handlersInstalled = false;

/**
 * Runs `cleanup` (synchronous: the process is going away) when this process exits or is
 * interrupted, unless the returned function unregisters it first.
 */
export function onProcessExit(cleanup: () => void): () => void {
  installHandlers();
  exitCleanups.add(cleanup);
  return () => exitCleanups.delete(cleanup);
}

function runExitCleanups(): void {
  for (const cleanup of exitCleanups) {
    exitCleanups.delete(cleanup);
    try {
      cleanup();
    } catch (error) {
      console.error("[test-env] cleanup at exit failed:", error);
    }
  }
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on("exit", runExitCleanups);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      runExitCleanups();
      // Exit (rather than re-raise) so that other "exit" hooks, e.g. moto's, still run.
      process.exit(128 + constants.signals[signal]);
    });
  }
}

/** Immediate, synchronous kill for exit paths. */
export function killProcessGroupsNow(pids: number[]): void {
  for (const pid of pids) signalGroup(pid, "SIGKILL");
}
