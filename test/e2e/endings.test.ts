import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createPair } from "../../functions/lib/kube/pairing/pairs.ts";
import { readLock } from "../../functions/lib/repository/locks.ts";
import { executionEndingEvent } from "../../functions/lib/workflow/execution-ending.ts";
import { localStateMachineArn } from "../../functions/lib/workflow/local-runner.ts";
import { runStep } from "../../functions/lib/workflow/step.ts";
import { compensate } from "../../functions/lib/workflow/steps/compensate.ts";
import {
  createNamespace,
  createVolume,
  patternedImage,
  temporaryObjects,
  writeImage,
} from "../integration/volumes/volume-env.ts";
import { failures, PAIR, startWorkflowEnv, type WorkflowEnv, type WorkflowRun } from "./workflow-env.ts";

const MiB = 1024 * 1024;
const VOLUME_BYTES = 32 * MiB;
// A -slow class snapshot is ready this many real seconds after its cut: at the time scale below
// that is 1000 s of the modelled run, longer than any function's timeout (870 s). A smaller scale
// leaves a 90 s Task a few real seconds, too few for a cold sandbox on this shared machine.
const SLOW_SNAPSHOT_SECONDS = 150;
const SLOW_SCALE = 0.15;
process.env.KUBEFERRY_SLOW_SNAPSHOT_SECONDS = String(SLOW_SNAPSHOT_SECONDS);

vi.setConfig({ testTimeout: 900_000 });

let env: WorkflowEnv;

beforeAll(async () => {
  env = await startWorkflowEnv();
  await env.publishedEvents();
}, 900_000);

afterAll(async () => {
  await env?.stop();
});

async function namespaceWithVolume(namespace: string, storageClass?: string): Promise<void> {
  await createNamespace(env.volumes.source, namespace);
  const image = await createVolume(
    env.volumes.source,
    namespace,
    "data",
    VOLUME_BYTES,
    "Block",
    {},
    storageClass,
  );
  await writeImage(image, patternedImage(VOLUME_BYTES, 4 * MiB));
}

async function expectNothingLeft(namespace: string): Promise<void> {
  expect(await temporaryObjects(env.volumes.source)).toEqual([]);
  expect(await temporaryObjects(env.volumes.destination)).toEqual([]);
  const repository = await env.deps.openRepository(PAIR);
  expect((await readLock(repository.store, `namespace-${namespace}`))?.held).toBe(false);
}

/** A pair whose mapping takes the source's -slow class (snapshots ready SLOW_SNAPSHOT_SECONDS after their cut); made once. */
let slowPairMade = false;
async function slowPair(): Promise<void> {
  if (slowPairMade) return;
  await createPair(
    env.deps.pairs,
    {
      name: "slow-pair",
      source: "source",
      destination: "destination",
      storageClassMapping: { "sim-fast": "dest-fast", "sim-slow": "dest-fast" },
    },
    { source: env.volumes.source.client, destination: env.volumes.destination.client },
    new Date(),
  );
  slowPairMade = true;
}

describe("every ending cleans up", () => {
  it("a run aborted mid-StageRanges (kubeferry cancel) leaves no temporary object nor lock, and publishes Aborted", async () => {
    await namespaceWithVolume("cancelled");
    const run = await env.run("migrate", { pair: PAIR, namespaces: ["cancelled"] }, "abort-1", {
      onEvent: (event, execution) => {
        if (event.type === "StateEntered" && event.state === "StageRanges") execution.abort();
      },
    });
    expect(run.outcome.status).toBe("ABORTED");
    expect(run.entered).toContain("StageRanges");
    expect(run.entered).not.toContain("CleanupAfterFailure");
    expect(run.outcome).toMatchObject({
      compensation: { output: { runId: "abort-1", ran: ["Cleanup", "ReleaseLock", "PublishResult"] } },
    });
    await expectNothingLeft("cancelled");
    const events = await env.publishedEvents();
    const failed = events.filter((e) => e["detail-type"] === "Migration Failed");
    expect(failed.map((e) => e.detail)).toEqual([
      expect.objectContaining({ status: "Aborted", runId: "abort-1", namespaces: ["cancelled"] }),
    ]);
    const repository = await env.deps.openRepository(PAIR);
    expect(await repository.manifests.readRunRecord("abort-1")).toMatchObject({ status: "Aborted" });

    // EventBridge delivers at least once: the same ending again cleans up and releases, publishes nothing.
    const again = executionEndingEvent({
      executionArn: `${localStateMachineArn.replace(":stateMachine:", ":execution:")}:abort-1`,
      stateMachineArn: localStateMachineArn,
      status: "ABORTED",
      startDate: new Date(),
      input: { pair: PAIR, namespaces: ["cancelled"] },
      error: "States.Aborted",
      cause: "The execution was stopped",
    });
    expect(await runStep(compensate, again, env.deps)).toMatchObject({ ran: ["Cleanup", "ReleaseLock"] });
    expect(await env.publishedEvents()).toEqual([]);
    await expectNothingLeft("cancelled");
  });

  it("a run failing with States.DataLimitExceeded (no Catch sees it) leaves no temporary object nor lock, and publishes Failed", async () => {
    await namespaceWithVolume("oversized");
    // No request makes a state outgrow 256 KiB: PlanRanges' result is padded here, after it has
    // opened a temporary PVC and a helper pod on the source.
    const run = await env.run("migrate", { pair: PAIR, namespaces: ["oversized"] }, "oversized-1", {
      adjust: (workflow) => ({
        ...workflow,
        invoke: async (task, payload) => {
          const result = await workflow.invoke(task, payload);
          return task === "PlanRanges" ? { ...(result as object), padding: "x".repeat(300 * 1024) } : result;
        },
      }),
    });
    expect(run.outcome, failures(run)).toMatchObject({ status: "FAILED", error: "States.DataLimitExceeded" });
    expect(run.entered).not.toContain("CleanupAfterFailure");
    expect(run.outcome).toMatchObject({
      compensation: { output: { runId: "oversized-1", ran: ["Cleanup", "ReleaseLock", "PublishResult"] } },
    });
    await expectNothingLeft("oversized");
    const events = await env.publishedEvents();
    expect(events.filter((e) => e["detail-type"] === "Migration Failed").map((e) => e.detail)).toEqual([
      expect.objectContaining({
        status: "Failed",
        runId: "oversized-1",
        error: expect.stringContaining("States.DataLimitExceeded"),
      }),
    ]);
  });

  it("a compensation delivered again after a Catch path already cleaned up publishes nothing twice", async () => {
    // ValidateRequest refuses an unknown pair: the Catch path publishes, the Fail state ends it.
    const run = await env.run("migrate", { pair: "no-such-pair", namespaces: ["x"] }, "rejected-1");
    expect(run.outcome).toMatchObject({ status: "FAILED", error: "MigrationFailed" });
    expect(run.outcome).toMatchObject({ compensation: { output: { ran: [] } } });
    const events = await env.publishedEvents();
    expect(events.filter((e) => e.detail.runId === null || e.detail.pair === "no-such-pair")).toHaveLength(1);
  });
});

/**
 * The three runs that wait on -slow snapshots run at once (each waits minutes of real time on
 * its own snapshot); each case checks its own run, and what is left on the clusters once all
 * three have ended.
 */
describe("snapshot readiness waits in the state machine", () => {
  const runs: Record<"patient" | "impatient" | "overdue", Promise<WorkflowRun>> = {} as never;
  let started = 0;
  let settled: Promise<Array<{ "detail-type": string; detail: Record<string, unknown> }>>;

  beforeAll(async () => {
    await slowPair();
    for (const namespace of ["patient", "impatient", "overdue"])
      await namespaceWithVolume(namespace, env.volumes.source.cluster.classes.slow);
    started = Date.now();
    runs.patient = env.run("migrate", { pair: "slow-pair", namespaces: ["patient"] }, "slow-1", {
      timeScale: SLOW_SCALE,
    });
    runs.impatient = env.run(
      "migrate",
      { pair: "slow-pair", namespaces: ["impatient"], snapshotTimeoutSeconds: 60 },
      "slow-2",
      { timeScale: SLOW_SCALE },
    );
    // The execution's timeout (7 days as synthesized) comes while the snapshot is still pending:
    // 300 s of the modelled run, 45 s here.
    runs.overdue = env.run("migrate", { pair: "slow-pair", namespaces: ["overdue"] }, "overdue-1", {
      timeScale: SLOW_SCALE,
      adjust: (workflow) => ({ ...workflow, definition: { ...workflow.definition, TimeoutSeconds: 300 } }),
    });
    // Every run ended, then the bus's events of all three (each case reads its own).
    settled = Promise.allSettled(Object.values(runs)).then(() => env.publishedEvents());
  }, 900_000);

  async function nothingLeftOnceAllEnded(): Promise<
    Array<{ "detail-type": string; detail: Record<string, unknown> }>
  > {
    const events = await settled;
    expect(await temporaryObjects(env.volumes.source)).toEqual([]);
    expect(await temporaryObjects(env.volumes.destination)).toEqual([]);
    return events;
  }

  it("a snapshot ready after longer than any function's timeout is waited for, and the run succeeds", async () => {
    const run = await runs.patient;
    const finished = Date.now();
    expect(run.error, failures(run)).toBeUndefined();
    expect(run.output?.result.status).toBe("Successful");
    const checks = run.entered.filter((state) => state === "CheckSnapshots").length;
    expect(checks).toBeGreaterThan(1);
    expect(run.entered).toContain("WaitForSnapshots");
    // The wait took longer than the longest function timeout at this scale.
    expect(finished - started).toBeGreaterThan(870 * SLOW_SCALE * 1000);
    await nothingLeftOnceAllEnded();
  });

  it("a snapshot not ready by the request's snapshotTimeoutSeconds fails the run with SnapshotTimeout, and the Catch path cleans up", async () => {
    const run = await runs.impatient;
    expect(run.outcome).toMatchObject({ status: "FAILED", error: "MigrationFailed" });
    const timedOut = run.events.find(
      (event) => event.type === "StateFailed" && event.error === "SnapshotTimeout",
    );
    expect(timedOut?.state).toBe("CheckSnapshots");
    expect(timedOut?.cause).toContain("snapshotTimeoutSeconds 60");
    expect(run.entered).toEqual(expect.arrayContaining(["WaitForSnapshots", "CleanupAfterFailure"]));
    expect(run.entered).not.toContain("PlanRanges");
    await nothingLeftOnceAllEnded();
  });

  it("a run past its execution timeout leaves no temporary object nor lock, and publishes TimedOut", async () => {
    const run = await runs.overdue;
    expect(run.outcome, failures(run)).toMatchObject({ status: "TIMED_OUT", error: "States.Timeout" });
    expect(run.entered).toContain("WaitForSnapshots");
    expect(run.entered).not.toContain("CleanupAfterFailure");
    expect(run.outcome).toMatchObject({
      compensation: { output: { runId: "overdue-1", ran: ["Cleanup", "ReleaseLock", "PublishResult"] } },
    });
    const events = await nothingLeftOnceAllEnded();
    const repository = await env.deps.openRepository("slow-pair");
    expect((await readLock(repository.store, "namespace-overdue"))?.held).toBe(false);
    const failed = events.filter(
      (e) => e["detail-type"] === "Migration Failed" && e.detail.runId === "overdue-1",
    );
    expect(failed.map((e) => e.detail)).toEqual([
      expect.objectContaining({ status: "TimedOut", runId: "overdue-1", namespaces: ["overdue"] }),
    ]);
    expect(await repository.manifests.readRunRecord("overdue-1")).toMatchObject({ status: "TimedOut" });
  });
});
