import { spawn } from "node:child_process";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const MiB = 1024 * 1024;

export async function timed<T>(work: () => Promise<T>): Promise<{ result: T; seconds: number }> {
  const start = process.hrtime.bigint();
  const result = await work();
  return { result, seconds: Number(process.hrtime.bigint() - start) / 1e9 };
}

export function mibPerSecond(bytes: number, seconds: number): number {
  return round(bytes / MiB / seconds);
}

export function round(value: number): number {
  return Math.round(value * 10) / 10;
}

/** Total size of the files under a directory: what a repository occupies. */
export async function directoryBytes(directory: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(directory, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

/** Runs a command to completion and returns its output; fails with the output on a non-zero exit. */
export function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (data) => {
      stdout += data;
    });
    child.stderr.on("data", (data) => {
      stderr += data;
    });
    child.once("error", reject);
    child.once("exit", (code) => {
      if (code === 0) resolve({ stdout, stderr });
      else reject(new Error(`${command} ${args.join(" ")} exited with ${code}:\n${stderr}${stdout}`));
    });
  });
}

export function progress(message: string) {
  process.stderr.write(`[bench] ${message}\n`);
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? Number.NaN)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/** Writes dirty pages back, so the next measurement does not pay for the previous one's writes. */
export async function flushDirtyPages(): Promise<void> {
  await run("sync", []);
}

/** Runs a benchmark in a temp folder of its own, removed after it however it ends. */
export async function inWorkFolder<T>(benchmark: (work: string) => Promise<T>): Promise<T> {
  const work = await mkdtemp(join(tmpdir(), "kubeferry-bench-"));
  try {
    return await benchmark(work);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
