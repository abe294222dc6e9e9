import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from "vitest";
import { ORIGINAL_REPLICAS_ANNOTATION } from "../../functions/lib/kube/transform/standby-mode.ts";
import { chunkKey } from "../../functions/lib/repository/content-store.ts";
import { acquireLock, readLock } from "../../functions/lib/repository/locks.ts";
import { getObject, listObjects, paths } from "../../functions/lib/volumes/kube-calls.ts";
import { ACTIVATED_ANNOTATION } from "../../functions/lib/volumes/names.ts";
import { waitFor } from "../env/clusters.ts";
import { seed } from "../integration/kube/kube-test-env.ts";
import { SHOP, shopWithBlockVolumes } from "../integration/kube/shop-app.ts";
import {
  createNamespace,
  createVolume,
  imageOfClaim,
  patternedImage,
  readImage,
  temporaryObjects,
  writeImage,
} from "../integration/volumes/volume-env.ts";
import { failures, PAIR, startWorkflowEnv, type WorkflowEnv } from "./workflow-env.ts";

const MiB = 1024 * 1024;
const CHUNK = 4 * MiB;
const VOLUME_BYTES = 64 * MiB;
const CLAIMS = ["data-db-0", "data-db-1"];
// kwok's own objects (Exec rules the node shim writes) are test-environment plumbing.
const request = { pair: PAIR, namespaces: [SHOP], excludeResourceTypes: ["*.kwok.x-k8s.io"] };

// Whole migrations on a small shared machine: minutes, not seconds.
vi.setConfig({ testTimeout: 900_000 });

let env: WorkflowEnv;
const sourceImages: Record<string, string> = {};

async function destinationObject(path: string): Promise<any> {
  return getObject(env.volumes.destination.client, path);
}

beforeAll(async () => {
  env = await startWorkflowEnv();
  await seed(env.volumes.source.client, shopWithBlockVolumes("sim-fast", VOLUME_BYTES));
  for (const claim of CLAIMS) {
    sourceImages[claim] = await imageOfClaim(env.volumes.source, SHOP, claim);
    await writeImage(sourceImages[claim] as string, patternedImage(VOLUME_BYTES, CHUNK));
  }
  await env.publishedEvents();
});

afterAll(async () => {
  await env?.stop();
});

describe("the synthesized workflow, run locally", () => {
  let firstRun: Awaited<ReturnType<WorkflowEnv["run"]>>;

  it("(a) migrates the app with its two volumes, objects and bytes verified on the destination", async () => {
    firstRun = await env.run("migrate", request, "run-1");
    expect(firstRun.error, failures(firstRun)).toBeUndefined();
    const result = firstRun.output?.result;
    expect(result).toMatchObject({ status: "Successful", pair: PAIR, namespaces: [SHOP] });
    expect(result.volumes.map((v: any) => [v.name, v.verified]).sort()).toEqual(CLAIMS.map((c) => [c, true]));
    expect(result.bytesStaged).toBeGreaterThan(0);

    for (const claim of CLAIMS) {
      const destination = await imageOfClaim(env.volumes.destination, SHOP, claim);
      expect(
        (await readImage(destination, VOLUME_BYTES)).equals(await readImage(sourceImages[claim] as string)),
        claim,
      ).toBe(true);
      const pvc = await destinationObject(paths.pvc(SHOP, claim));
      expect(pvc.spec.storageClassName).toBe("dest-fast");
    }
    const db = await destinationObject("/apis/apps/v1/namespaces/shop/statefulsets/db");
    expect(db.spec.replicas).toBe(0);
    expect(db.metadata.annotations[ORIGINAL_REPLICAS_ANNOTATION]).toBe("2");
    // Cluster IPs are not copied: the destination allocated its own.
    const service = await destinationObject("/api/v1/namespaces/shop/services/web");
    expect(service.spec.clusterIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(await destinationObject("/apis/example.com/v1/namespaces/shop/widgets/blue")).toBeDefined();
    expect(await destinationObject("/api/v1/namespaces/shop/configmaps/app-config")).toBeDefined();

    const events = await env.publishedEvents();
    expect(events.map((e) => e["detail-type"])).toEqual(["Migration Started", "Migration Succeeded"]);
    expect(await temporaryObjects(env.volumes.source)).toEqual([]);
    expect(await temporaryObjects(env.volumes.destination)).toEqual([]);
  });

  it("(b) a standby DR rerun stages and writes only the changed chunks; apps stay at 0 replicas", async () => {
    const image = await readImage(sourceImages[CLAIMS[0] as string] as string);
    const changed = [1, 9];
    for (const chunk of changed) image.fill(0xa5 + chunk, chunk * CHUNK, chunk * CHUNK + 1000);
    await writeImage(sourceImages[CLAIMS[0] as string] as string, image);

    const rerun = await env.run("migrate", request, "run-2");
    expect(rerun.error, failures(rerun)).toBeUndefined();
    const result = rerun.output?.result;
    expect(result.status).toBe("Successful");
    expect(result.chunksUploaded).toBe(changed.length);
    const written = Object.fromEntries(result.volumes.map((v: any) => [v.name, v.chunksWritten]));
    expect(written).toEqual({ [CLAIMS[0] as string]: changed.length, [CLAIMS[1] as string]: 0 });

    const destination = await imageOfClaim(env.volumes.destination, SHOP, CLAIMS[0] as string);
    expect((await readImage(destination, VOLUME_BYTES)).equals(image)).toBe(true);
    const db = await destinationObject("/apis/apps/v1/namespaces/shop/statefulsets/db");
    expect(db.spec.replicas).toBe(0);
    await env.publishedEvents();
  });

  it("(c) activate scales the standby copy up", async () => {
    const activation = await env.run(
      "activate",
      { pair: PAIR, namespaces: [SHOP], action: "activate" },
      "activate-1",
    );
    expect(activation.error, failures(activation)).toBeUndefined();
    expect(activation.output?.result.status).toBe("Successful");
    const db = await destinationObject("/apis/apps/v1/namespaces/shop/statefulsets/db");
    expect(db.spec.replicas).toBe(2);
    const web = await destinationObject("/apis/apps/v1/namespaces/shop/deployments/web");
    expect(web.spec.replicas).toBe(2);
    await env.publishedEvents();
  });

  it("(c2) a rerun while the activated copy runs writes nothing into its volumes and ends Skipped, saying why; deactivate resumes replication", async () => {
    // The activated StatefulSet's pods mount the standby volumes.
    await waitFor("the activated db pods", async () => {
      const pods = await listObjects<any>(env.volumes.destination.client, "/api/v1/namespaces/shop/pods");
      return pods.filter((pod) => pod.metadata.name.startsWith("db-")).length === 2;
    });
    const destinationBefore = await readImage(
      await imageOfClaim(env.volumes.destination, SHOP, CLAIMS[0] as string),
    );
    const image = await readImage(sourceImages[CLAIMS[0] as string] as string);
    image.fill(0x5c, 3 * CHUNK, 3 * CHUNK + 1000);
    await writeImage(sourceImages[CLAIMS[0] as string] as string, image);

    const skipped = await env.run("migrate", request, "run-live");
    expect(skipped.error, failures(skipped)).toBeUndefined();
    expect(skipped.output?.result).toMatchObject({
      status: "Skipped",
      error: expect.stringMatching(/^StandbyInUse: .*PVC shop\/data-db-[01] is mounted by pod db-[01]/),
    });
    expect(skipped.entered).toEqual(expect.arrayContaining(["CleanupStandbyInUse", "PublishStandbyInUse"]));
    expect(skipped.entered).not.toContain("RestoreRanges");
    const destinationAfter = await readImage(
      await imageOfClaim(env.volumes.destination, SHOP, CLAIMS[0] as string),
    );
    expect(destinationAfter.equals(destinationBefore)).toBe(true);
    expect(await temporaryObjects(env.volumes.destination)).toEqual([]);
    const repository = await env.deps.openRepository(PAIR);
    expect((await readLock(repository.store, "namespace-shop"))?.held).toBe(false);
    expect(await repository.manifests.readRunRecord("run-live")).toMatchObject({ status: "Skipped" });
    expect((await env.publishedEvents()).map((e) => e["detail-type"])).toEqual(["Migration Started"]);

    // The live application writes into its volume; activation marked the volume for that.
    const claim = await destinationObject(paths.pvc(SHOP, CLAIMS[1] as string));
    expect(claim.metadata.annotations[ACTIVATED_ANNOTATION]).toBeDefined();
    const live = await imageOfClaim(env.volumes.destination, SHOP, CLAIMS[1] as string);
    const written = await readImage(live);
    written.fill(0x77, 5 * CHUNK, 5 * CHUNK + 500);
    await writeImage(live, written);

    // Failback: scaled to 0 again, the copy is a standby once its pods are gone.
    const deactivation = await env.run(
      "activate",
      { pair: PAIR, namespaces: [SHOP], action: "deactivate" },
      "deactivate-1",
    );
    expect(deactivation.error, failures(deactivation)).toBeUndefined();
    await waitFor("the db pods to end", async () => {
      const pods = await listObjects<any>(env.volumes.destination.client, "/api/v1/namespaces/shop/pods");
      return pods.every((pod) => !pod.metadata.name.startsWith("db-"));
    });
    await env.publishedEvents();
  });

  // A range that fails inside a Distributed Map fails the Map Run with
  // States.ExceedToleratedFailureThreshold, as AWS reports it; the range recorded its own error
  // (ChunkCorrupt naming the chunk), and the published result names that.
  it("(d) a run that fails in the restore Map cleans up, releases its lock and publishes Migration Failed", async () => {
    // A chunk of the shop's volume is corrupted in S3; a new namespace holds the same bytes, so
    // staging finds the chunk already stored and the restore is the first to read it.
    const repository = await env.deps.openRepository(PAIR);
    const manifest = await repository.manifests.readVolumeManifest("run-1", SHOP, CLAIMS[1] as string);
    const victim = manifest.image.chunks.find((id) => id !== null) as string;
    const key = `kubeferry/${PAIR}/${chunkKey(victim)}`;
    const stored = await env.volumes.s3.send(new GetObjectCommand({ Bucket: env.volumes.bucket, Key: key }));
    const bytes = Buffer.from(await (stored.Body as any).transformToByteArray());
    // Put back afterwards: the shop's later full restore (after failback) reads that chunk too.
    const original = Buffer.from(bytes);
    onTestFinished(async () => {
      await env.volumes.s3.send(
        new PutObjectCommand({ Bucket: env.volumes.bucket, Key: key, Body: original }),
      );
    });
    bytes.writeUInt8(bytes.readUInt8(bytes.length >> 1) ^ 0xff, bytes.length >> 1);
    await env.volumes.s3.send(new PutObjectCommand({ Bucket: env.volumes.bucket, Key: key, Body: bytes }));

    await createNamespace(env.volumes.source, "ledger");
    const ledger = await createVolume(env.volumes.source, "ledger", "books", VOLUME_BYTES, "Block");
    await writeImage(ledger, await readImage(sourceImages[CLAIMS[1] as string] as string));

    const failed = await env.run("migrate", { ...request, namespaces: ["ledger"] }, "run-3");
    expect(failed.error?.message).toMatch(/failed/);
    expect(failed.entered).toEqual(
      expect.arrayContaining([
        "RestoreRanges",
        "CleanupAfterFailure",
        "ReleaseLockAfterFailure",
        "PublishFailure",
      ]),
    );
    expect(failed.events.some((e) => e.type === "StateFailed" && e.error === "ChunkCorrupt")).toBe(true);
    expect((await readLock(repository.store, "namespace-ledger"))?.held).toBe(false);
    const events = await env.publishedEvents();
    const failure = events.find((e) => e["detail-type"] === "Migration Failed");
    expect(failure?.detail).toMatchObject({ status: "Failed", runId: "run-3", namespaces: ["ledger"] });
    expect(String(failure?.detail.error)).toMatch(/^ChunkCorrupt: /);
    expect(String(failure?.detail.error)).toContain(victim);
    expect(await temporaryObjects(env.volumes.source)).toEqual([]);
    expect(await temporaryObjects(env.volumes.destination)).toEqual([]);
    expect(await destinationObject(paths.pvc("ledger", "books"))).toBeUndefined();
  });

  it("(e) a run that finds the lock held ends Skipped, or waits for it, by option", async () => {
    const repository = await env.deps.openRepository(PAIR);
    const other = await acquireLock(repository.store, "namespace-shop", {
      owner: "someone-else",
      ttlMs: 60_000,
    });
    const skipped = await env.run("migrate", { ...request, lockPolicy: "skip" }, "run-4");
    expect(skipped.error, failures(skipped)).toBeUndefined();
    expect(skipped.output?.result).toMatchObject({
      status: "Skipped",
      error: expect.stringContaining("someone-else"),
    });
    expect(skipped.entered).not.toContain("PairClusters");

    // WaitForLock's 30 s last 3 s; every timeout shrinks alike (a 60 s function has 6 s). The lock
    // goes when the run starts waiting: after its first attempt, before the one after the wait,
    // however long a loaded machine takes to get there.
    let released: Promise<void> | undefined;
    const waited = await env.run("migrate", { ...request, lockPolicy: "wait" }, "run-5", {
      timeScale: 0.1,
      onEvent: (event) => {
        if (event.type === "StateEntered" && event.state === "WaitForLock") released ??= other.release();
      },
    });
    await released;
    expect(waited.error, failures(waited)).toBeUndefined();
    expect(waited.entered).toContain("WaitForLock");
    expect(waited.output?.result.status).toBe("Successful");
    // After failback the run compared every chunk: what the live app wrote in (c2) is undone.
    for (const name of CLAIMS) {
      const destination = await imageOfClaim(env.volumes.destination, SHOP, name);
      expect(
        (await readImage(destination, VOLUME_BYTES)).equals(await readImage(sourceImages[name] as string)),
        name,
      ).toBe(true);
      const claim = await destinationObject(paths.pvc(SHOP, name));
      expect(claim.metadata.annotations[ACTIVATED_ANNOTATION], name).toBeUndefined();
    }
    await env.publishedEvents();
  });
});

describe("existing objects", () => {
  it("(g) under existingResources fail a new namespace migrates, and a rerun stops with ConflictError naming the object", async () => {
    await createNamespace(env.volumes.source, "audit");
    const image = await createVolume(env.volumes.source, "audit", "trail", 16 * MiB, "Block");
    await writeImage(image, patternedImage(16 * MiB, CHUNK));
    const failPolicy = { ...request, namespaces: ["audit"], existingResources: "fail" };

    const first = await env.run("migrate", failPolicy, "run-6");
    expect(first.error, failures(first)).toBeUndefined();
    expect(first.output?.result.status).toBe("Successful");

    const again = await env.run("migrate", failPolicy, "run-7");
    expect(again.error).toBeDefined();
    const conflict = again.events.find((e) => e.type === "StateFailed" && e.error === "ConflictError");
    expect(conflict?.cause).toMatch(/Namespace audit/);
    expect(again.entered).toContain("CleanupAfterFailure");
    expect(await temporaryObjects(env.volumes.destination)).toEqual([]);
    await env.publishedEvents();
  });
});

describe("application hooks", () => {
  it("(f) a failing pre hook fails the run naming pod, command and output; the post hook still ran", async () => {
    const markerDir = mkdtempSync(join(tmpdir(), "kubeferry-hook-"));
    onTestFinished(() => rmSync(markerDir, { recursive: true, force: true }));
    const marker = join(markerDir, "post-hook-ran");
    const hooks = {
      pre: [
        { podSelector: "app=db", container: "postgres", command: ["sh", "-c", "echo cannot-freeze; exit 7"] },
      ],
      post: [{ podSelector: "app=db", container: "postgres", command: ["sh", "-c", `touch ${marker}`] }],
    };
    await waitFor("the db pods to run", async () => {
      const pods = await listObjects<any>(env.volumes.source.client, paths.pods(SHOP), "app=db");
      return pods.length > 0 && pods.every((pod) => pod.status?.phase === "Running");
    });
    const failed = await env.run("migrate", { ...request, hooks }, "run-hooks");
    expect(failed.error).toBeDefined();
    const preHook = failed.events.find((e) => e.type === "StateFailed" && e.state === "PreHooks");
    expect(preHook?.error).toBe("ExecFailed");
    expect(preHook?.cause).toMatch(/pod shop\/db-\d.*exit.*7.*cannot-freeze/s);
    expect(failed.entered).toEqual(expect.arrayContaining(["PostHooksAfterFailure", "CleanupAfterFailure"]));
    expect(existsSync(marker)).toBe(true);
    await env.publishedEvents();
  });
});

describe("invalid console input", () => {
  it.each([
    [{ pair: "no-such-pair", namespaces: [SHOP] }, /pair: "no-such-pair" does not exist/],
    [{ pair: PAIR, namespaces: [SHOP], selector: "app in (" }, /selector: must be a label selector/],
    [{ pair: PAIR, namespaces: [SHOP], namespace: "shop" }, /unknown field "namespace"/],
    [{ pair: PAIR, namespaces: [] }, /namespaces: name at least one namespace/],
  ])(
    "%j fails in ValidateRequest naming the field, touching no cluster and no bucket object",
    async (input, message) => {
      // Only this run's events count, also when an earlier test failed before reading its own.
      await env.publishedEvents();
      const before = await bucketKeys();
      const rejected = await env.run("migrate", input, `bad-${Math.random().toString(36).slice(2, 8)}`);
      expect(rejected.error).toBeDefined();
      // Only ValidateRequest and the publishing of its rejection ran: no state that connects a
      // cluster or opens the pair's repository was entered, and no bucket object changed.
      expect(rejected.entered).toEqual(["ValidateRequest", "PublishRejected", "Failed"]);
      const events = await env.publishedEvents();
      expect(events).toHaveLength(1);
      expect(String(events[0]?.detail.error)).toMatch(message);
      expect(await bucketKeys()).toEqual(before);
    },
  );
});

async function bucketKeys(): Promise<string[]> {
  const listed = await env.volumes.s3.send(new ListObjectsV2Command({ Bucket: env.volumes.bucket }));
  return (listed.Contents ?? []).map((object) => `${object.Key}@${object.ETag}`).sort();
}
