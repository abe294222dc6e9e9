import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import type { V1PersistentVolume, V1PersistentVolumeClaim, V1StorageClass } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ClusterClient } from "../../../functions/lib/kube/client/cluster-client.ts";
import type { Repository } from "../../../functions/lib/repository/repository.ts";
import type { FinalizeVolumeInput } from "../../../functions/lib/volumes/finalize-volume.ts";
import { getObject, listObjects, paths } from "../../../functions/lib/volumes/kube-calls.ts";
import { RECLAIM_ANNOTATION, RUN_LABEL } from "../../../functions/lib/volumes/names.ts";
import { planVolume, type VolumePlan } from "../../../functions/lib/volumes/plan-volume.ts";
import type { SourceVolume } from "../../../functions/lib/volumes/snapshots.ts";
import { waitFor } from "../../env/clusters.ts";
import { Fault, InjectedCrash } from "./crashing-client.ts";
import { cleanupBoth, finalizeRestored, restoreVolume, snapshotAndStage } from "./migrate.ts";
import {
  clock,
  createNamespace,
  createVolume,
  openTestRepository,
  patternedImage,
  readImage,
  readySnapshots,
  startVolumeEnv,
  temporaryObjects,
  type VolumeEnv,
  writeImage,
} from "./volume-env.ts";

/**
 * FinalizeVolumes and Cleanup killed at each of their mutating requests, then what the workflow
 * does next: FinalizeVolumes retried, then Cleanup; or, its retries spent, CleanupAfterFailure;
 * Cleanup itself killed and retried. A kill before mutation N leaves the clusters as a kill after
 * N-1 does, so only the retried FinalizeVolumes is killed both ways. Staged once; each crash
 * point restores a run of its own into a destination namespace of its own.
 */

const MiB = 1024 * 1024;
const size = 8 * MiB;
const chunkBytes = 1 * MiB;
const namespace = "ledger";
const pvc = "accounts";
const stagingRun = "run-staged";
/** FinalizeVolumes' mutations for one fresh volume: the verified mark, then finalizeVolume's seven. */
const finalizeMutations = 8;
/** The mutation of FinalizeVolumes that creates the final PV. */
const finalPvCreated = 4;
const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

let env: VolumeEnv;
let repository: Repository;
let plan: VolumePlan;
let sourceSha: string;

beforeAll(async () => {
  env = await startVolumeEnv();
  await createNamespace(env.source, namespace);
  const image = patternedImage(size, chunkBytes);
  sourceSha = sha(image);
  await writeImage(await createVolume(env.source, namespace, pvc, size, "Block"), image);
  repository = await openTestRepository(env, "crash");
  const staged = await snapshotAndStage(env, repository, {
    runId: stagingRun,
    namespace,
    pvcs: [pvc],
    chunkBytes,
  });
  plan = staged.plans[0] as VolumePlan;
  await cleanupBoth(env, stagingRun);
});

afterAll(async () => {
  await env?.stop();
});

interface Restored {
  runId: string;
  input: Omit<FinalizeVolumeInput, "verifiedSha256">;
  /** The restored volume's CSI handle: the volume that must end bound, or reclaimed. */
  handle: string;
}

/** PrepareVolumes and RestoreRanges of run `runId`, into a destination namespace of that name. */
async function restored(
  runId: string,
  storageClass = env.destination.cluster.classes.fast,
): Promise<Restored> {
  const dst = env.destination;
  await createNamespace(dst, runId);
  const options = { runId, namespace, pvcs: [pvc], destinationStorageClass: storageClass };
  const { restore } = await restoreVolume(env, repository, options, plan, {
    destinationNamespace: runId,
    manifestRunId: stagingRun,
  });
  const claim = await getObject<V1PersistentVolumeClaim>(
    dst.client,
    paths.pvc(restore.claimNamespace, restore.claimName),
  );
  const pv = await getObject<V1PersistentVolume>(dst.client, paths.pv(claim?.spec?.volumeName ?? ""));
  return {
    runId,
    input: { restore, source: plan.source, storageClass },
    handle: pv?.spec?.csi?.volumeHandle as string,
  };
}

/** Runs a step through the fault; true when it was killed, false when it finished first. */
async function killed(fault: Fault, step: (wrap: (c: ClusterClient) => ClusterClient) => Promise<void>) {
  try {
    await step((client) => fault.wrap(client));
  } catch (error) {
    if (!(error instanceof InjectedCrash)) throw error;
  }
  return fault.crashed;
}

const finalize = (run: Restored) => (wrap: (c: ClusterClient) => ClusterClient) =>
  finalizeRestored(wrap(env.destination.client), repository, {}, run.input);
const cleanup = (run: Restored) => (wrap: (c: ClusterClient) => ClusterClient) =>
  cleanupBoth(env, run.runId, [wrap(env.source.client), wrap(env.destination.client)]);

/** The final PVC is Bound to the restored volume, which holds the source's bytes under the class's policy. */
async function expectBound(run: Restored): Promise<void> {
  const dst = env.destination;
  const { namespace: finalNamespace, name } = run.input.restore.finalPvc;
  const claim = await getObject<V1PersistentVolumeClaim>(dst.client, paths.pvc(finalNamespace, name));
  expect(claim?.status?.phase).toBe("Bound");
  const pv = await getObject<V1PersistentVolume>(dst.client, paths.pv(claim?.spec?.volumeName ?? ""));
  expect(pv?.spec?.csi?.volumeHandle).toBe(run.handle);
  const storageClass = await getObject<V1StorageClass>(
    dst.client,
    `/apis/storage.k8s.io/v1/storageclasses/${run.input.storageClass}`,
  );
  expect(pv?.spec?.persistentVolumeReclaimPolicy).toBe(storageClass?.reclaimPolicy);
  expect(pv?.metadata?.annotations?.[RECLAIM_ANNOTATION]).toBeUndefined();
  expect(sha(await readImage(dst.cluster.volumeImagePath(run.handle), size))).toBe(sourceSha);
}

/** No temporary object on either cluster, and no PV of the run but the bound final one. */
async function expectNothingLeft(run: Restored): Promise<void> {
  expect(await temporaryObjects(env.source)).toEqual([]);
  expect(await temporaryObjects(env.destination)).toEqual([]);
  const { namespace: finalNamespace, name } = run.input.restore.finalPvc;
  const claim = await getObject<V1PersistentVolumeClaim>(
    env.destination.client,
    paths.pvc(finalNamespace, name),
  );
  const runPvs = await listObjects<V1PersistentVolume>(
    env.destination.client,
    paths.pvs(),
    `${RUN_LABEL}=${run.runId}`,
  );
  expect(runPvs.map((pv) => pv.metadata?.name)).toEqual(claim ? [claim.spec?.volumeName] : []);
}

/** A failed run's volume that never became the final PVC is reclaimed as its class says, not leaked. */
async function expectReclaimed(run: Restored): Promise<void> {
  const image = env.destination.cluster.volumeImagePath(run.handle);
  await waitFor(
    `the volume ${run.handle} of the failed run ${run.runId} to be reclaimed`,
    async () => {
      const pvs = await listObjects<V1PersistentVolume>(env.destination.client, paths.pvs());
      return !existsSync(image) && !pvs.some((pv) => pv.spec?.csi?.volumeHandle === run.handle);
    },
    30_000,
  );
}

const finalizePoints = Array.from({ length: finalizeMutations }, (_, i) => i + 1);

// Both classes: a retry must put back Retain as faithfully as Delete.
describe.each(["fast", "retain"] as const)("on the %s class, FinalizeVolumes killed", (kind) => {
  describe.each(["before", "after"] as const)("%s its Nth mutation", (when) => {
    it.each(finalizePoints)(
      "N=%i, then retried and Cleanup: bound to the verified bytes, nothing left",
      async (at) => {
        const run = await restored(`fin-${kind}-${when}-${at}`, env.destination.cluster.classes[kind]);
        expect(await killed(new Fault(at, when), finalize(run))).toBe(true);
        await finalize(run)((client) => client);
        await cleanupBoth(env, run.runId);
        await expectBound(run);
        await expectNothingLeft(run);
      },
    );
  });
});

describe("FinalizeVolumes killed after its Nth mutation, its retries spent", () => {
  it.each(finalizePoints)(
    "N=%i, then CleanupAfterFailure: the volume bound or reclaimed, nothing left",
    async (at) => {
      const run = await restored(`fail-after-${at}`);
      expect(await killed(new Fault(at, "after"), finalize(run))).toBe(true);
      await cleanupBoth(env, run.runId);
      const { namespace: finalNamespace, name } = run.input.restore.finalPvc;
      const final = await getObject(env.destination.client, paths.pvc(finalNamespace, name));
      if (final) await expectBound(run);
      else await expectReclaimed(run);
      await expectNothingLeft(run);
    },
  );
});

it(`FinalizeVolumes has no mutation ${finalizeMutations + 1}: the crash points above are all of them`, async () => {
  const run = await restored("fin-whole");
  expect(await killed(new Fault(finalizeMutations + 1, "before"), finalize(run))).toBe(false);
  await cleanupBoth(env, run.runId);
  await expectBound(run);
  await expectNothingLeft(run);
});

/**
 * A run with temporary objects on both clusters: its snapshot and source helper, and on the
 * destination FinalizeVolumes killed after creating the final PV (temporary PVC and PV still
 * there): the state with the most for cleanup to sort out.
 */
async function failedMidFinalize(runId: string): Promise<Restored> {
  const src = env.source;
  const [volume] = await readySnapshots(src, { runId, namespace, pvcs: [pvc] });
  await planVolume(
    { client: src.client, exec: src.exec, clock },
    { runId, source: volume as SourceVolume, chunkBytes },
  );
  const run = await restored(runId);
  expect(await killed(new Fault(finalPvCreated, "after"), finalize(run))).toBe(true);
  return run;
}

describe("Cleanup killed after its Nth mutation", () => {
  it("retried from each crash point, leaves nothing and reclaims the failed run's volume", async () => {
    let at = 0;
    for (let crashed = true; crashed; ) {
      const run = await failedMidFinalize(`clean-after-${++at}`);
      crashed = await killed(new Fault(at, "after"), cleanup(run));
      await cleanupBoth(env, run.runId);
      await expectReclaimed(run);
      await expectNothingLeft(run);
    }
    // Pods, PVCs (each volume labelled first), snapshots, contents and PVs on both sides.
    expect(at - 1).toBeGreaterThanOrEqual(8);
  }, 900_000);
});
