import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { leftoverLoopDevices, leftoverMounts } from "../integration/env/leftover-mounts.ts";
import { orphanedEnvironmentProcesses } from "../integration/env/leftover-processes.ts";

let runTemp: string | undefined;

/**
 * Before any test file runs: the run gets a temp directory of its own (TMPDIR, inherited by
 * the test workers and every process they start), so that what it leaves there is its own
 * and not another run's on the same machine.
 */
export function setup(): void {
  runTemp = mkdtempSync(join(tmpdir(), "vitest-run-"));
  process.env.TMPDIR = runTemp;
}

/**
 * After every test file has run: no control plane component of a test environment may be left
 * running, no volume of one left mounted or attached to a loop device, and no temporary folder of
 * kubeferry's left behind (each test removes what it created, also when it fails).
 */
export function teardown(): void {
  try {
    checkLeftovers();
  } catch (error) {
    // Vitest reports an error thrown here but still exits 0: the exit code must say it too.
    process.exitCode = 1;
    throw error;
  }
}

function checkLeftovers(): void {
  const left = orphanedEnvironmentProcesses().map((p) => `process ${p.pid} ${p.commandLine}`);
  left.push(...leftoverMounts().map((path) => `mount ${path}`));
  left.push(...leftoverLoopDevices().map((device) => `loop device ${device}`));
  if (left.length > 0) {
    throw new Error(`test environments left ${left.length} things behind:\n${left.join("\n")}`);
  }
  if (runTemp === undefined) return;
  const leftovers = readdirSync(runTemp).filter((entry) => entry.startsWith("kubeferry-"));
  rmSync(runTemp, { recursive: true, force: true });
  if (leftovers.length > 0) {
    throw new Error(
      `the run left ${leftovers.length} kubeferry entries in its temp directory: ${leftovers.join(", ")}`,
    );
  }
}
