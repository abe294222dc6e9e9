import { leftoverLoopDevices, leftoverMounts } from "../integration/env/leftover-mounts.ts";
import { orphanedEnvironmentProcesses } from "../integration/env/leftover-processes.ts";

/**
 * After every test file has run: no control plane component of a test environment may be left
 * running, and no volume of one left mounted or attached to a loop device (each test stops what
 * it started, also when it fails).
 */
export function teardown(): void {
  const left = orphanedEnvironmentProcesses().map((p) => `process ${p.pid} ${p.commandLine}`);
  left.push(...leftoverMounts().map((path) => `mount ${path}`));
  left.push(...leftoverLoopDevices().map((device) => `loop device ${device}`));
  if (left.length > 0) {
    throw new Error(`test environments left ${left.length} things behind:\n${left.join("\n")}`);
  }
}
