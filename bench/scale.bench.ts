import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { BlobStore } from "../functions/lib/repository/blob-store.ts";
import { defaultChunkSize } from "../functions/lib/repository/image-manifest.ts";
import { planChunkRanges } from "../functions/lib/volumes/chunk-ranges.ts";
import { localFunctionArn } from "../functions/lib/workflow/local-runner/cloud-assembly.ts";
import { payloadBytes } from "../functions/lib/workflow/local-runner/payload-limit.ts";
import type { AslDefinition } from "../functions/lib/workflow/local-runner/time-scale.ts";
import { startLocalExecution } from "../functions/lib/workflow/local-runner.ts";
import { localStepDeps } from "../functions/lib/workflow/local-step-deps.ts";
import { bucketStore, type RepositoryLocation } from "../functions/lib/workflow/repository-location.ts";
import { migrationRequestSchema } from "../functions/lib/workflow/request.ts";
import {
  readRestorePlan,
  readStagePlan,
  writeRestorePlan,
  writeStagePlan,
  writeVolumeList,
} from "../functions/lib/workflow/run-plans.ts";
import { checkSnapshots } from "../functions/lib/workflow/steps/check-snapshots.ts";
import { commitRun } from "../functions/lib/workflow/steps/commit-run.ts";
import { discoverResources } from "../functions/lib/workflow/steps/discover-resources.ts";
import { finalizeVolumes } from "../functions/lib/workflow/steps/finalize-volumes.ts";
import { planRanges } from "../functions/lib/workflow/steps/plan-ranges.ts";
import { prepareVolumes } from "../functions/lib/workflow/steps/prepare-volumes.ts";
import { restoreRange } from "../functions/lib/workflow/steps/restore-range.ts";
import { snapshotVolumes } from "../functions/lib/workflow/steps/snapshot-volumes.ts";
import { stageRange } from "../functions/lib/workflow/steps/stage-range.ts";
import { planVolumeOf, type StagePlan } from "../functions/lib/workflow/volume-state.ts";
import { MiB, progress, round } from "./measure.ts";

/**
 * The migrate workflow at 64 volumes of 16 TiB each, on the local runner with Step Functions'
 * 256 KiB payload enforcement on: the definition in statemachines/migrate.asl.json, its two
 * Distributed Maps reading their items from the run's plan in a local repository (ItemReader,
 * ItemBatcher), every range a Task invocation.
 *
 * No bytes move. The volumes' sizes come from a step-dependency fake: the Tasks that talk to
 * clusters are replaced by in-process fakes reporting 64 thin 16 TiB devices (PVC sizes as the
 * snapshots would report them). What decides the state's size is real: the planner
 * (chunk-ranges.ts, the default chunk size), the plans written and read through run-plans.ts in
 * a filesystem repository, and the input schemas of PlanRanges, StageRange, CommitRun,
 * PrepareVolumes, RestoreRange and FinalizeVolumes, against which every payload the runner
 * hands those Tasks is parsed. The steps that read bytes run on real volumes in
 * test/e2e/many-ranges.test.ts (three volumes, over 300 ranges, same limits).
 *
 * Prints {volumes, volume_bytes, ranges, max_state_bytes (largest state input or output the
 * runner saw, children's included), max_map_item_bytes (largest child execution input or range
 * Task input), max_invocation_bytes (the most bytes one range invocation reads or writes: its
 * range's length), max_invocation_seconds_at_20MiBs}.
 */
const { values: options } = parseArgs({
  // --volumes: a smaller run to try the bench out; the figures of record are at 64.
  options: { json: { type: "boolean", default: false }, volumes: { type: "string", default: "64" } },
});

const VOLUMES = Number(options.volumes);
const VOLUME_BYTES = 16 * 1024 ** 4;
const SLOWEST_LINK = 20 * MiB;

const home = mkdtempSync(join(tmpdir(), "kubeferry-bench-scale-"));
const location: RepositoryLocation = { kind: "filesystem", root: home };
const deps = localStepDeps(home, { info: () => {}, warn: () => {} });
const items = bucketStore(location);

function definition(): AslDefinition {
  const text = readFileSync(join(import.meta.dirname, "..", "statemachines", "migrate.asl.json"), "utf8");
  return JSON.parse(
    text.replace(/\$\{(\w+)\}/g, (_whole, name: string) =>
      name === "StagingBucketName" ? items.bucket : localFunctionArn(name.replace(/FunctionArn$/, "")),
    ),
  );
}

const pvc = (i: number) => ({ namespace: "bench", pvc: `data-${String(i).padStart(2, "0")}` });
const sourceVolume = (i: number) => ({
  ...pvc(i),
  snapshot: `kubeferry-bench-${i}`,
  volumeBytes: VOLUME_BYTES,
  volumeMode: "Block" as const,
  storageClass: "sim-fast",
  accessModes: ["ReadWriteOnce"],
  requestedStorage: "16Ti",
  labels: { app: "bench" },
});
const execTarget = (i: number, cluster: string) => ({
  cluster,
  namespace: "kubeferry-system",
  pod: `kubeferry-bench-run-helper-${i}`,
  container: "helper",
  volume: "data",
});

let maxRangeBytes = 0;
const rangeBytes = (length: number) => {
  maxRangeBytes = Math.max(maxRangeBytes, length);
};

/** The Tasks as fakes; the plan steps' parts that shape the state are the real ones. */
/** The fields of Task payloads the fakes read without a step's schema. */
interface Payload {
  execution?: string;
  startedAt?: string;
  request?: unknown;
  outcome?: string;
}

async function invoke(task: string, payload: Payload): Promise<unknown> {
  switch (task) {
    case "ValidateRequest":
      return {
        id: "bench-run",
        execution: payload.execution,
        startedAt: payload.startedAt,
        request: migrationRequestSchema.parse(payload.request),
      };
    case "AcquireLock":
      return { acquired: true, holder: "bench-run" };
    case "PairClusters":
      return { source: "source", destination: "destination", checks: [] };
    case "DiscoverResources": {
      const { run } = discoverResources.input.parse(payload);
      const { store } = await deps.openRepository(run.request.pair);
      const selected = Array.from({ length: VOLUMES }, (_, i) => pvc(i));
      return { objects: 200, volumes: await writeVolumeList(store, run, "selected", selected) };
    }
    case "SnapshotVolumes": {
      const { run } = snapshotVolumes.input.parse(payload);
      const { store } = await deps.openRepository(run.request.pair);
      const cuts = Array.from({ length: VOLUMES }, (_, i) => ({
        ...pvc(i),
        snapshot: `kubeferry-bench-${i}`,
      }));
      return {
        cuts: await writeVolumeList(store, run, "snapshots", cuts),
        readyBy: new Date().toISOString(),
      };
    }
    case "CheckSnapshots":
      checkSnapshots.input.parse(payload);
      return { ready: true, pending: 0, waitSeconds: 0 };
    case "PreHooks":
    case "PostHooks":
      return { hooks: [] };
    case "PlanRanges": {
      const { run } = planRanges.input.parse(payload);
      const plan: StagePlan = { version: 1, volumes: [] };
      const ranges = [];
      for (let i = 0; i < VOLUMES; i++) {
        const planned = planChunkRanges(VOLUME_BYTES, defaultChunkSize);
        plan.volumes.push({
          source: sourceVolume(i),
          transport: "block",
          reason: "bench",
          target: execTarget(i, "source"),
          chunkBytes: defaultChunkSize,
          rangeCount: planned.length,
        });
        ranges.push(...planned.map((range) => ({ volume: i, range })));
      }
      const repository = await deps.openRepository(run.request.pair);
      return writeStagePlan(deps, repository, run, plan, ranges);
    }
    case "StageRange": {
      const { run, plan, item } = stageRange.input.parse(payload);
      planVolumeOf(await cachedPlan(run.request.pair, plan, readStagePlan), item, task);
      if (!("range" in item)) throw new Error("the scale bench plans block ranges only");
      rangeBytes(item.range.length);
      const chunks = item.range.chunkCount;
      return {
        rangeIndex: item.range.index,
        chunks,
        holes: chunks,
        newChunks: 0,
        storedBytes: 0,
        streamedBytes: 0,
        digestBytes: chunks * 65,
        alreadyStaged: false,
      };
    }
    case "CommitRun":
      commitRun.input.parse(payload);
      return { bytesStaged: 0, chunksUploaded: 0 };
    case "PrepareVolumes": {
      const { run, plan } = prepareVolumes.input.parse(payload);
      const repository = await deps.openRepository(run.request.pair);
      const staged = await readStagePlan(repository.store, plan.plan);
      const volumes = staged.volumes.map(({ source, transport, reason }, i) => ({
        source,
        transport,
        reason,
        storageClass: "dest-fast",
        restore: {
          runId: run.id,
          pair: run.request.pair,
          mode: "fresh" as const,
          target: execTarget(i, "destination"),
          claimName: `kubeferry-bench-run-${i}`,
          claimNamespace: "kubeferry-system",
          finalPvc: { namespace: source.namespace, name: source.pvc },
          manifest: { runId: run.id, namespace: source.namespace, pvc: source.pvc },
          device: { kind: "fresh" as const },
        },
      }));
      return writeRestorePlan(deps, repository, run, { version: 1, volumes }, plan);
    }
    case "RestoreRange": {
      const { run, plan, item } = restoreRange.input.parse(payload);
      planVolumeOf(await cachedPlan(run.request.pair, plan, readRestorePlan), item, task);
      if (!("range" in item)) throw new Error("the scale bench plans block ranges only");
      rangeBytes(item.range.length);
      return {
        volume: item.volume,
        rangeIndex: item.range.index,
        writtenChunks: 0,
        zeroedChunks: 0,
        streamedBytes: 0,
      };
    }
    case "FinalizeVolumes": {
      const { run } = finalizeVolumes.input.parse(payload);
      const { store } = await deps.openRepository(run.request.pair);
      const reports = Array.from({ length: VOLUMES }, (_, i) => ({
        namespace: "bench",
        name: pvc(i).pvc,
        bytes: VOLUME_BYTES,
        bytesWritten: 0,
        chunksWritten: 0,
        bytesStaged: 0,
        chunksUploaded: 0,
        verified: true,
      }));
      return { volumes: await writeVolumeList(store, run, "restored", reports) };
    }
    case "ApplyResources":
      return { status: "Successful", counts: { Applied: 200 } };
    case "Verify":
      return { verified: true, checks: [] };
    case "Cleanup":
      return { removed: 0 };
    case "ReleaseLock":
      return { released: true };
    case "PublishResult":
      return { status: payload.outcome === "Started" ? "Running" : "Successful" };
    default:
      throw new Error(`bench: no fake for Task ${task}`);
  }
}

// Each real range invocation reads its plan once; a fake reading it 260,000 times would only time the disk.
const plans = new Map<string, Promise<{ volumes: unknown[] }>>();
function cachedPlan(
  pair: string,
  key: string,
  read: (store: BlobStore, key: string) => Promise<{ volumes: unknown[] }>,
): Promise<{ volumes: unknown[] }> {
  let plan = plans.get(key);
  if (plan === undefined) {
    plan = deps.openRepository(pair).then((repository) => read(repository.store, key));
    plans.set(key, plan);
  }
  return plan;
}

const rangeTasks = new Set(["StageRange", "RestoreRange"]);
const batchStates = new Set(["StageBatch", "RestoreBatch"]);

try {
  const started = Date.now();
  const execution = startLocalExecution(
    definition(),
    { pair: "bench", namespaces: ["bench"] },
    (task, payload) => invoke(task, payload as Payload),
    "bench-run",
    { items },
  );
  let maxState = 0;
  let maxItem = 0;
  let ranges = 0;
  let seen = 0;
  for await (const event of execution.events) {
    for (const payload of [event.input, event.output]) {
      if (payload === undefined) continue;
      const bytes = payloadBytes(payload);
      maxState = Math.max(maxState, bytes);
      if (
        event.type === "StateEntered" &&
        (rangeTasks.has(event.state ?? "") || batchStates.has(event.state ?? ""))
      ) {
        maxItem = Math.max(maxItem, bytes);
      }
    }
    if (event.type === "StateExited" && event.state === "PlanRanges") {
      ranges = (event.output as { plan: { ranges: number } }).plan.ranges;
      if (!options.json) progress(`planned ${ranges} ranges`);
    }
    if (++seen % 100_000 === 0 && !options.json) progress(`${seen} events`);
  }
  const outcome = await execution.result;
  if (outcome.status !== "SUCCEEDED")
    throw new Error(`the run ended ${outcome.status}: ${outcome.error} ${outcome.cause}`);
  const seconds = round(maxRangeBytes / SLOWEST_LINK);
  const figures: Array<[string, number]> = [
    ["volumes", VOLUMES],
    ["volume_bytes", VOLUME_BYTES],
    ["ranges", ranges],
    ["max_state_bytes", maxState],
    ["max_map_item_bytes", maxItem],
    ["max_invocation_bytes", maxRangeBytes],
    ["max_invocation_seconds_at_20MiBs", seconds],
  ];
  if (options.json) console.log(`{${figures.map(([name, value]) => `"${name}": ${value}`).join(", ")}}`);
  else {
    for (const [name, value] of figures) console.log(`${name}: ${value}`);
    console.log(`(${round((Date.now() - started) / 1000)} s)`);
  }
} finally {
  rmSync(home, { recursive: true, force: true });
}
