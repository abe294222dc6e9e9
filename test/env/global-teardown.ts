import { readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { orphanedEnvironmentProcesses } from "../integration/env/leftover-processes.ts";

let temporaryBefore = new Set<string>();

/** Before any test file runs: what kubeferry already had in the system's temp directory. */
export function setup(): void {
  temporaryBefore = new Set(kubeferryTemporaryEntries());
}

/**
 * After every test file has run: no control plane component of a test environment may be left
 * running, and no temporary folder of kubeferry's may be left behind (each test removes what it
 * created, also when it fails).
 */
export function teardown(): void {
  const left = orphanedEnvironmentProcesses();
  if (left.length > 0) {
    throw new Error(
      `test environments left ${left.length} processes running:\n${left.map((p) => `${p.pid} ${p.commandLine}`).join("\n")}`,
    );
  }
  const leftovers = kubeferryTemporaryEntries().filter((entry) => !temporaryBefore.has(entry));
  if (leftovers.length > 0) {
    throw new Error(
      `the run left ${leftovers.length} kubeferry entries in ${tmpdir()}: ${leftovers.join(", ")}`,
    );
  }
}

function kubeferryTemporaryEntries(): string[] {
  return readdirSync(tmpdir()).filter((entry) => entry.startsWith("kubeferry-"));
}
