import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { UsageError } from "./command.ts";

/**
 * A local run executes inside the `kubeferry migrate` process that started it, so `kubeferry
 * cancel` in another process asks it to stop through the kubeferry home: the running process
 * keeps `<home>/running/<run>.json` while it runs and aborts its execution (StopExecution, then
 * the compensation) once `<run>.cancel` appears beside it.
 */
const runningDir = (home: string) => join(home, "running");
const markerOf = (home: string, run: string) => join(runningDir(home), `${run}.json`);
const requestOf = (home: string, run: string) => join(runningDir(home), `${run}.cancel`);

const pollMs = 250;

/** Marks the run as running and calls `abort` once a cancel is requested; the returned function ends both. */
export async function watchForCancel(
  home: string,
  run: string,
  abort: () => void,
): Promise<() => Promise<void>> {
  await mkdir(runningDir(home), { recursive: true, mode: 0o700 });
  await writeFile(
    markerOf(home, run),
    JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString() }),
    {
      mode: 0o600,
    },
  );
  let aborted = false;
  const timer = setInterval(() => {
    if (!aborted && existsSync(requestOf(home, run))) {
      aborted = true;
      abort();
    }
  }, pollMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await rm(requestOf(home, run), { force: true });
    await rm(markerOf(home, run), { force: true });
  };
}

/**
 * Asks the local process running `run` to abort it, and waits until that process has ended the
 * run, compensation included (at most `timeoutMs`).
 */
export async function cancelLocalRun(home: string, run: string, timeoutMs = 900_000): Promise<void> {
  const marker = markerOf(home, run);
  let owner: { pid: number };
  try {
    owner = JSON.parse(await readFile(marker, "utf8")) as { pid: number };
  } catch {
    throw new UsageError(`no local run named "${run}" is running (kubeferry status lists the runs)`);
  }
  if (!processAlive(owner.pid)) {
    await rm(marker, { force: true });
    throw new UsageError(
      `run "${run}" was started by process ${owner.pid}, which is gone: nothing runs it any more`,
    );
  }
  await writeFile(requestOf(home, run), "", { mode: 0o600 });
  const deadline = Date.now() + timeoutMs;
  while (existsSync(marker) && processAlive(owner.pid)) {
    if (Date.now() > deadline)
      throw new Error(`run "${run}" did not end within ${timeoutMs / 1000} s of the cancel`);
    await sleep(pollMs);
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
