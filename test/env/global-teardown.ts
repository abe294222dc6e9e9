import { orphanedEnvironmentProcesses } from "../integration/env/leftover-processes.ts";

/**
 * After every test file has run: no control plane component of a test environment may be left
 * running (each test stops what it started, also when it fails).
 */
export function teardown(): void {
  const left = orphanedEnvironmentProcesses();
  if (left.length > 0) {
    throw new Error(
      `test environments left ${left.length} processes running:\n${left.map((p) => `${p.pid} ${p.commandLine}`).join("\n")}`,
    );
  }
}
