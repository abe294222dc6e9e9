import { readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { processesMentioning } from "./leftover-processes.ts";

// Volumes of test environments are real filesystems mounted through loop devices: what a test
// leaves mounted or attached outlives it and fills the machine's loop devices.

const envPrefix = join(tmpdir(), "kubeferry-env-");

/** Mount points inside `kubeferry-env-*` folders of environments no longer running. */
export function leftoverMounts(): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((line) => unescapeMountPath(line.split(" ")[4] ?? ""))
    .filter(isOfStoppedEnvironment);
}

/** Loop devices backed by a file of a stopped environment's `kubeferry-env-*` folder (deleted or not). */
export function leftoverLoopDevices(): string[] {
  const found: string[] = [];
  for (const device of readdirSync("/sys/block").filter((name) => name.startsWith("loop"))) {
    let backingFile: string;
    try {
      backingFile = readFileSync(`/sys/block/${device}/loop/backing_file`, "utf8").trim();
    } catch {
      continue; // not attached
    }
    if (isOfStoppedEnvironment(backingFile)) found.push(`/dev/${device} → ${backingFile}`);
  }
  return found;
}

/** An environment still running (e.g. `npm run env:up`) has its API servers mentioning its folder. */
function isOfStoppedEnvironment(path: string): boolean {
  if (!path.startsWith(envPrefix)) return false;
  const envDir = envPrefix + path.slice(envPrefix.length).split("/")[0];
  return processesMentioning(envDir).length === 0;
}

/** mountinfo escapes spaces, tabs, newlines and backslashes as octal. */
function unescapeMountPath(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}
