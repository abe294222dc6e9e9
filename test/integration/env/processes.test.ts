import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { afterEach, describe, expect, it, onTestFailed } from "vitest";
import { startClusters, waitFor } from "../../env/clusters.ts";
import { orphanedEnvironmentProcesses, processesMentioning } from "./leftover-processes.ts";

const fixture = join(import.meta.dirname, "fixtures", "start-and-wait.ts");
const tsxLoader = createRequire(import.meta.url).resolve("tsx");
// A fixture starts a whole cluster (whose readiness waits are up to 60 s each) and then cleans it up.
const fixtureTestTimeoutMs = 240_000;
const running = new Set<ReturnType<typeof startFixture>>();

/** Runs the fixture under the same Node, so signals reach the process that owns the clusters. */
function startFixture(mode: "wait" | "exit") {
  const child = spawn(process.execPath, ["--import", tsxLoader, fixture, mode], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  const fixtureRun = { child, workDir: undefined as unknown as Promise<string>, exited };
  running.add(fixtureRun);
  // Without its output a fixture that hangs would only show as this test's timeout.
  onTestFailed(() => console.error(`[processes.test] the fixture's stderr:\n${stderr}`));
  const workDir = new Promise<string>((resolve, reject) => {
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      const line = stdout.split("\n").find((candidate) => candidate.startsWith("{"));
      if (line) resolve(JSON.parse(line).workDir);
    });
    child.on("exit", (code) => reject(new Error(`fixture exited (${code}) before starting:\n${stderr}`)));
  });
  fixtureRun.workDir = workDir;
  return fixtureRun;
}

/** A fixture left running by a failed test must not outlive it (nor leave its clusters behind). */
async function stopRunningFixtures(): Promise<void> {
  for (const fixtureRun of running) {
    running.delete(fixtureRun);
    if (fixtureRun.child.exitCode !== null || fixtureRun.child.signalCode !== null) continue;
    fixtureRun.child.kill("SIGTERM");
    await fixtureRun.exited;
  }
}

async function expectCleanedUp(workDir: string): Promise<void> {
  await waitFor(
    "the cluster processes to be gone",
    async () => processesMentioning(workDir).length === 0,
    10_000,
  );
  expect(existsSync(workDir)).toBe(false);
}

describe("process hygiene", () => {
  afterEach(stopRunningFixtures);

  it("starts both clusters warm in under 60 s and stop() leaves no process or folder", async () => {
    const startedAt = Date.now();
    const env = await startClusters(["source", "destination"]);
    const seconds = (Date.now() - startedAt) / 1000;
    console.error(`[processes.test] warm start of source and destination: ${seconds.toFixed(1)}s`);
    expect(seconds).toBeLessThan(60);
    expect(processesMentioning(env.workDir).length).toBeGreaterThanOrEqual(10);
    await env.stop();
    expect(processesMentioning(env.workDir)).toEqual([]);
    expect(existsSync(env.workDir)).toBe(false);
  });

  it.each(["SIGINT", "SIGTERM"] as const)(
    "cleans up when the owning process gets %s",
    async (signal) => {
      const fixtureRun = startFixture("wait");
      const workDir = await fixtureRun.workDir;
      expect(processesMentioning(workDir).length).toBeGreaterThanOrEqual(5);
      fixtureRun.child.kill(signal);
      await fixtureRun.exited;
      await expectCleanedUp(workDir);
    },
    fixtureTestTimeoutMs,
  );

  it(
    "cleans up when the owning process exits without calling stop()",
    async () => {
      const fixtureRun = startFixture("exit");
      const workDir = await fixtureRun.workDir;
      await fixtureRun.exited;
      await expectCleanedUp(workDir);
    },
    fixtureTestTimeoutMs,
  );

  it("finds no process left behind by any test environment of this run", () => {
    expect(orphanedEnvironmentProcesses()).toEqual([]);
  });
});
