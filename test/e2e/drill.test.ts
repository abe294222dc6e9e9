import { createHash } from "node:crypto";
import { readdir } from "node:fs/promises";
import { dirname } from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { DEMO_CLAIMS, DEMO_NAMESPACE, demoApp } from "../../cli/demo-app.ts";
import { listObjects, paths } from "../../functions/lib/volumes/kube-calls.ts";
import { seed } from "../integration/kube/kube-test-env.ts";
import { imageOfClaim, readImage, temporaryObjects, writeImage } from "../integration/volumes/volume-env.ts";
import { failures, PAIR, startWorkflowEnv, type WorkflowEnv } from "./workflow-env.ts";

// Whole migrations and drills on a small shared machine: minutes, not seconds.
vi.setConfig({ testTimeout: 900_000 });

const NS = DEMO_NAMESPACE;
const WAL_CLAIM = DEMO_CLAIMS[1] as string;
const MARKER = "ledger-ok";
// kwok's own objects (Exec rules the node shim writes) are test-environment plumbing.
const base = { pair: PAIR, namespaces: [NS], excludeResourceTypes: ["*.kwok.x-k8s.io"] };
/** Passes only where the restored WAL device starts with the marker written on the source. */
const walCheck = {
  podSelector: "app=ledger",
  container: "db",
  command: ["sh", "-c", `test "$(head -c ${MARKER.length} "$KUBEFERRY_DEVICE")" = ${MARKER}`],
  timeoutSeconds: 30,
};

let env: WorkflowEnv;
let standbyRunId: string;

interface Named {
  metadata: { name: string; namespace?: string; resourceVersion?: string };
}

/** Names of what "no object left behind" covers, on the destination and the source. */
async function inventory() {
  const names = async (side: "source" | "destination", path: string) =>
    (await listObjects<Named>(env.volumes[side].client, path))
      .map((o) => `${o.metadata.namespace ?? ""}/${o.metadata.name}`)
      .sort();
  return {
    namespaces: await names("destination", "/api/v1/namespaces"),
    pvs: await names("destination", paths.pvs()),
    pvcs: await names("destination", paths.allPvcs()),
    snapshots: [
      ...(await names("destination", paths.allSnapshots())),
      ...(await names("source", paths.allSnapshots())),
    ],
    temporary: [
      ...(await temporaryObjects(env.volumes.destination)),
      ...(await temporaryObjects(env.volumes.source)),
    ],
    // The driver's own volumes: a PV object gone while its volume stays would leak storage.
    volumes: (await readdir(dirname(env.volumes.destination.cluster.volumeImagePath("any")))).sort(),
  };
}

/** The standby copy as the drill must leave it: every object's resourceVersion and each volume's digest. */
async function standbyState() {
  const client = env.volumes.destination.client;
  const versions: Record<string, string | undefined> = {};
  for (const path of [
    `/apis/apps/v1/namespaces/${NS}/statefulsets`,
    `/api/v1/namespaces/${NS}/services`,
    `/api/v1/namespaces/${NS}/configmaps`,
    `/api/v1/namespaces/${NS}/secrets`,
    paths.pvcs(NS),
  ]) {
    for (const object of await listObjects<Named>(client, path))
      versions[`${path}/${object.metadata.name}`] = object.metadata.resourceVersion;
  }
  const digests: Record<string, string> = {};
  for (const claim of DEMO_CLAIMS) {
    const image = await imageOfClaim(env.volumes.destination, NS, claim);
    digests[claim] = createHash("sha256")
      .update(await readImage(image))
      .digest("hex");
  }
  const pvs = (
    await listObjects<Named & { spec?: { claimRef?: { namespace?: string } } }>(client, paths.pvs())
  )
    .filter((pv) => pv.spec?.claimRef?.namespace === NS)
    .map((pv) => `${pv.metadata.name}@${pv.metadata.resourceVersion}`)
    .sort();
  return { versions, digests, pvs };
}

/** Collects the functions' log lines, where the embedded-metric-format lines are. */
function logCollector() {
  let text = "";
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  // Every function process of the run pipes into it.
  stream.setMaxListeners(0);
  return { stream, text: () => text };
}

function metricValues(log: string, name: string): number[] {
  return log
    .split("\n")
    .filter((line) => line.includes('"CloudWatchMetrics"') && line.includes(`"${name}"`))
    .map((line) => JSON.parse(line.slice(line.indexOf("{")))[name] as number);
}

beforeAll(async () => {
  env = await startWorkflowEnv();
  // Mapped to dest-retain: the drill's volumes must go although their class says Retain.
  await seed(env.volumes.source.client, demoApp("sim-retain"));
  const wal = await imageOfClaim(env.volumes.source, NS, WAL_CLAIM);
  const image = await readImage(wal);
  image.write(MARKER, 0);
  await writeImage(wal, image);
  const standby = await env.run("migrate", { ...base, startApplications: false }, "standby-1");
  expect(standby.error, failures(standby)).toBeUndefined();
  expect(standby.output?.result.status).toBe("Successful");
  standbyRunId = standby.output?.result.runId;
  await env.publishedEvents();
});

afterAll(async () => {
  await env?.stop();
});

describe("DR drills", () => {
  it("restores the latest committed run into a scratch namespace, passes its health check, reports its time to ready and leaves nothing behind", async () => {
    const before = await inventory();
    const standby = await standbyState();
    const log = logCollector();

    const drill = await env.run(
      "migrate",
      { ...base, drill: { healthChecks: [walCheck], readyTimeoutSeconds: 300 } },
      "drill-1",
      { log: log.stream },
    );
    expect(drill.error, failures(drill)).toBeUndefined();
    const result = drill.output?.result;
    expect(result.status).toBe("Successful");
    expect(result.drill).toMatchObject({ passed: true, restoredRun: standbyRunId });
    expect(result.drill.timeToReadySeconds).toBeGreaterThan(0);
    console.info(`drill time to ready: ${result.drill.timeToReadySeconds} s`);
    expect(result.drill.checks.length).toBeGreaterThan(0);
    expect(result.drill.checks.every((check: { passed: boolean }) => check.passed)).toBe(true);
    // Restored and verified into the scratch namespace, never into the standby's.
    expect(result.volumes.map((v: any) => [v.name, v.verified]).sort()).toEqual(
      [...DEMO_CLAIMS].sort().map((claim) => [claim, true]),
    );
    for (const volume of result.volumes) expect(volume.namespace).toMatch(/^ledger-drill-[0-9a-f]{8}$/);
    expect(result.bytesStaged).toBe(0);
    expect(drill.entered).not.toContain("SnapshotVolumes");
    expect(drill.entered).toContain("CheckDrill");

    const events = await env.publishedEvents();
    expect(events.map((e) => e["detail-type"])).toEqual(["Drill Started", "Drill Passed"]);
    expect(events[1]?.detail.drill).toMatchObject({ passed: true });
    expect(metricValues(log.text(), "DrillsFailed")).toEqual([0]);

    expect(await inventory()).toEqual(before);
    expect(await standbyState()).toEqual(standby);
    const record = await (await env.deps.openRepository(PAIR)).manifests.readRunRecord(result.runId);
    expect(record).toMatchObject({ status: "Succeeded", drillOf: standbyRunId, volumes: [] });
  });

  it("a failing health check fails the drill with its output, publishes Drill Failed and the metric, and still removes the scratch namespace", async () => {
    const before = await inventory();
    const standby = await standbyState();
    const log = logCollector();
    const failing = {
      podSelector: "app=ledger",
      container: "db",
      command: ["sh", "-c", "echo replica lag too high >&2; exit 3"],
      timeoutSeconds: 30,
    };

    const drill = await env.run(
      "migrate",
      { ...base, drill: { healthChecks: [failing], readyTimeoutSeconds: 10 } },
      "drill-2",
      { log: log.stream },
    );
    expect(drill.outcome.status).toBe("FAILED");
    const events = await env.publishedEvents();
    expect(events.map((e) => e["detail-type"])).toEqual(["Drill Started", "Drill Failed"]);
    const detail = events[1]?.detail as any;
    expect(detail.status).toBe("Failed");
    expect(detail.error).toMatch(/^DrillFailed: .*exit(ed)? 3.*replica lag too high/);
    expect(detail.drill).toMatchObject({
      passed: false,
      restoredRun: standbyRunId,
      timeToReadySeconds: null,
    });
    expect(detail.drill.checks[0]).toMatchObject({ passed: false, exitCode: 3 });
    expect(metricValues(log.text(), "DrillsFailed")).toEqual([1]);

    expect(await inventory()).toEqual(before);
    expect(await standbyState()).toEqual(standby);
  });

  it("refuses a drill of a namespace with no committed run, naming it", async () => {
    const drill = await env.run(
      "migrate",
      { ...base, namespaces: ["billing"], drill: { healthChecks: [] } },
      "drill-3",
    );
    expect(drill.outcome.status).toBe("FAILED");
    const events = await env.publishedEvents();
    const failed = events.find((e) => e["detail-type"] === "Drill Failed")?.detail as any;
    expect(failed.error).toMatch(/NoCommittedRun: namespace billing: .*run a migration first/);
    expect(failed.drill).toMatchObject({ passed: false, restoredRun: null });
  });
});
