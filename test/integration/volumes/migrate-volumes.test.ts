import { execFileSync } from "node:child_process";
import { createHash, randomFillSync as randomFill } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { V1PersistentVolume, V1PersistentVolumeClaim } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConflictError } from "../../../functions/lib/errors.ts";
import {
  createOrGet,
  deleteIfPresent,
  getObject,
  listObjects,
  mergePatch,
  paths,
} from "../../../functions/lib/volumes/kube-calls.ts";
import { RESTORED_ANNOTATION, RUN_LABEL, temporaryName } from "../../../functions/lib/volumes/names.ts";
import { FSTYPE_PARAMETER } from "../../../functions/lib/volumes/snapshots.ts";
import { quantityToBytes } from "../../../functions/lib/volumes/storage-quantity.ts";
import { waitFor } from "../../env/clusters.ts";
import { blockDriver } from "../../env/manifests/storage-objects.ts";
import { addResourceQuota, createRestrictedNamespace } from "../../env/namespaces.ts";
import { cleanupBoth, restoreAll, snapshotAndStage } from "./migrate.ts";
import {
  CountingChunks,
  CountingExec,
  createNamespace,
  createVolume,
  imageOfClaim,
  openTestRepository,
  patternedImage,
  readImage,
  startVolumeEnv,
  temporaryObjects,
  type VolumeEnv,
  writeImage,
} from "./volume-env.ts";

const MiB = 1024 * 1024;

/** Mounts a volume image on the host (as root) for `work`, then unmounts it. */
async function withMounted<T>(image: string, fsType: string, work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "kubeferry-mount-"));
  execFileSync("mount", ["-t", fsType, "-o", "loop", image, dir]);
  try {
    return await work(dir);
  } finally {
    execFileSync("umount", ["-d", dir]);
    await rm(dir, { recursive: true, force: true });
  }
}
/** Pods, PVCs and VolumeSnapshots in a namespace that carry a kubeferry run label. */
async function kubeferryObjectsIn(side: VolumeEnv["source"], namespace: string): Promise<string[]> {
  const kinds = [
    ["Pod", paths.pods(namespace)],
    ["PVC", paths.pvcs(namespace)],
    ["VolumeSnapshot", paths.snapshots(namespace)],
  ] as const;
  const found: string[] = [];
  for (const [kind, path] of kinds) {
    const objects = await listObjects<{ metadata?: { name?: string } }>(side.client, path, RUN_LABEL);
    found.push(...objects.map((o) => `${kind} ${o.metadata?.name}`));
  }
  return found;
}
const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

let env: VolumeEnv;

beforeAll(async () => {
  env = await startVolumeEnv();
});

afterAll(async () => {
  await env?.stop();
});

describe("migrating Block and Filesystem volumes", () => {
  const namespace = "shop";
  const size = 256 * MiB;
  // 1 MiB chunks: 256 per volume, so that 1% of the chunks is a few whole chunks.
  const chunkBytes = 1 * MiB;
  const runId = "run-first";
  let blockImage: Buffer;

  it("moves the snapshot's bytes and binds the final PVCs with the original names and modes", async () => {
    await createNamespace(env.source, namespace);
    blockImage = patternedImage(size, chunkBytes);
    const fsImage = patternedImage(size, chunkBytes);
    const blockPath = await createVolume(env.source, namespace, "db-block", size, "Block", { app: "db" });
    const fsPath = await createVolume(env.source, namespace, "db-files", size, "Filesystem", { app: "db" });
    await writeImage(blockPath, blockImage);
    await writeImage(fsPath, fsImage);

    const repository = await openTestRepository(env, "volumes");
    const options = {
      runId,
      namespace,
      pvcs: ["db-block", "db-files"],
      chunkBytes,
      ranges: { rangeBytes: 64 * MiB },
      // Point in time: written after the cut and before staging reads a byte, so absent on the
      // destination (staging reads the snapshot, not the live volume).
      afterSnapshots: async () => {
        const later = Buffer.alloc(4 * MiB, 0xab);
        await writeImage(blockPath, Buffer.concat([later, blockImage.subarray(later.length)]));
      },
    };
    const staged = await snapshotAndStage(env, repository, options);
    expect(staged.plans.map((p) => p.ranges.length)).toEqual([4, 4]);

    await createNamespace(env.destination, namespace);
    await restoreAll(env, repository, options, staged);

    for (const [name, image, mode] of [
      ["db-block", blockImage, "Block"],
      ["db-files", fsImage, "Filesystem"],
    ] as const) {
      const claim = await getObject<V1PersistentVolumeClaim>(
        env.destination.client,
        paths.pvc(namespace, name),
      );
      expect(claim?.status?.phase).toBe("Bound");
      expect(claim?.spec?.volumeMode).toBe(mode);
      expect(claim?.spec?.storageClassName).toBe(env.destination.cluster.classes.fast);
      expect(claim?.metadata?.labels).toEqual({ app: "db" });
      expect(JSON.parse(claim?.metadata?.annotations?.[RESTORED_ANNOTATION] ?? "{}")).toEqual({
        runId,
        namespace,
        pvc: name,
      });
      const restored = await readImage(await imageOfClaim(env.destination, namespace, name), size);
      expect(sha(restored)).toBe(sha(image));
    }

    await cleanupBoth(env, runId);
    expect(await temporaryObjects(env.source)).toEqual([]);
    expect(await temporaryObjects(env.destination)).toEqual([]);
  }, 600_000);

  it("on a rerun after 1% of the chunks changed, uploads, streams and writes only those chunks", async () => {
    // Three chunks get new data (the 1%), one data chunk becomes zeros.
    const changed = [5, 100, 201];
    const zeroed = 8; // kind 0 in patternedImage: random data
    const image = Buffer.from(blockImage);
    for (const index of changed) randomFill(image.subarray(index * chunkBytes, (index + 1) * chunkBytes));
    image.fill(0, zeroed * chunkBytes, (zeroed + 1) * chunkBytes);
    await writeImage(await imageOfClaim(env.source, namespace, "db-block"), image);

    const repository = await openTestRepository(env, "volumes");
    const chunks = new CountingChunks(repository.content);
    const sourceExec = new CountingExec(env.source.exec);
    const destinationExec = new CountingExec(env.destination.exec);
    const rerun = "run-second";
    const options = {
      runId: rerun,
      namespace,
      pvcs: ["db-block", "db-files"],
      chunkBytes,
      ranges: { rangeBytes: 64 * MiB },
      chunks,
      sourceExec,
      destinationExec,
    };
    const staged = await snapshotAndStage(env, repository, options);

    const changedIds = changed.map((i) =>
      repository.content.chunkIdForDigest(
        createHash("sha256")
          .update(image.subarray(i * chunkBytes, (i + 1) * chunkBytes))
          .digest(),
      ),
    );
    expect(chunks.created.sort()).toEqual(changedIds.sort());
    expect(chunks.putIds.sort()).toEqual(changedIds.sort());
    const streamed = staged.ranges.reduce((n, r) => n + r.streamedBytes, 0);
    const digests = staged.ranges.reduce((n, r) => n + r.digestBytes, 0);
    expect(streamed).toBe(changed.length * chunkBytes);
    // One "<index> <sha256>" line per chunk of both volumes.
    const lines = Array.from(
      { length: 2 * (size / chunkBytes) },
      (_, i) => `${i % (size / chunkBytes)} ${"0".repeat(64)}\n`,
    );
    expect(digests).toBe(lines.join("").length);
    // Besides chunks and digests, each volume's exec output is only "ok\n" (device check): no
    // exec reads a whole device.
    expect(sourceExec.stdoutBytes).toBe(streamed + digests + 2 * 3);

    const restored = await restoreAll(env, repository, options, staged);
    expect(restored.reduce((n, r) => n + r.writtenChunks, 0)).toBe(changed.length);
    expect(restored.reduce((n, r) => n + r.zeroedChunks, 0)).toBe(1);
    expect(destinationExec.stdinBytes).toBe(changed.length * chunkBytes);

    const claim = await getObject<V1PersistentVolumeClaim>(
      env.destination.client,
      paths.pvc(namespace, "db-block"),
    );
    expect(claim?.status?.phase).toBe("Bound");
    expect(JSON.parse(claim?.metadata?.annotations?.[RESTORED_ANNOTATION] ?? "{}")).toEqual({
      runId: rerun,
      namespace,
      pvc: "db-block",
    });
    const onDestination = await readImage(await imageOfClaim(env.destination, namespace, "db-block"), size);
    expect(sha(onDestination)).toBe(sha(image));

    await cleanupBoth(env, rerun);
    expect(await temporaryObjects(env.source)).toEqual([]);
    expect(await temporaryObjects(env.destination)).toEqual([]);
  }, 600_000);

  it("grows the standby when the source PVC was expanded, and restores the larger volume", async () => {
    const grownBytes = size + 64 * MiB;
    const sourceImage = await imageOfClaim(env.source, namespace, "db-block");
    await mergePatch(env.source.client, paths.pvc(namespace, "db-block"), {
      spec: { resources: { requests: { storage: String(grownBytes) } } },
    });
    await waitFor(
      "the source's resizer to grow db-block",
      async () => (await stat(sourceImage)).size >= grownBytes,
      60_000,
    );
    const image = await readImage(sourceImage, grownBytes);
    randomFill(image.subarray(size));
    await writeImage(sourceImage, image);

    const repository = await openTestRepository(env, "volumes");
    const options = {
      runId: "run-grown",
      namespace,
      pvcs: ["db-block"],
      chunkBytes,
      ranges: { rangeBytes: 64 * MiB },
    };
    const staged = await snapshotAndStage(env, repository, options);
    await restoreAll(env, repository, options, staged);

    const claim = await getObject<V1PersistentVolumeClaim>(
      env.destination.client,
      paths.pvc(namespace, "db-block"),
    );
    expect(claim?.spec?.resources?.requests?.storage).toBe(String(grownBytes));
    const pv = await getObject<V1PersistentVolume>(
      env.destination.client,
      paths.pv(claim?.spec?.volumeName ?? ""),
    );
    expect(quantityToBytes(pv?.spec?.capacity?.storage ?? "0")).toBeGreaterThanOrEqual(grownBytes);
    const onDestination = await readImage(
      await imageOfClaim(env.destination, namespace, "db-block"),
      grownBytes,
    );
    expect(sha(onDestination)).toBe(sha(image));

    await cleanupBoth(env, "run-grown");
    expect(await temporaryObjects(env.destination)).toEqual([]);
  }, 600_000);

  it("refuses to write into a standby that another pair restored", async () => {
    const standby = await imageOfClaim(env.destination, namespace, "db-block");
    const before = sha(await readImage(standby));
    const repository = await openTestRepository(env, "volumes");
    const options = {
      runId: "run-other-pair",
      pair: "other-pair",
      namespace,
      pvcs: ["db-block"],
      chunkBytes,
      ranges: { rangeBytes: 64 * MiB },
    };
    const staged = await snapshotAndStage(env, repository, options);
    const restoring = restoreAll(env, repository, options, staged);
    await expect(restoring).rejects.toThrow(ConflictError);
    await expect(restoring).rejects.toThrow(
      /PVC shop\/db-block is kubeferry's copy restored by pair test, not by pair other-pair/,
    );
    expect(sha(await readImage(standby))).toBe(before);
    await cleanupBoth(env, "run-other-pair");
    expect(await temporaryObjects(env.destination)).toEqual([]);
  }, 600_000);

  // The real external-provisioner (v6.4.0) reclaims the final PV although it lacks
  // pv.kubernetes.io/provisioned-by: its deletion does not check the annotation.
  it("leaves a migrated Delete volume to the provisioner, which deletes it with its claim", async () => {
    const claim = await getObject<V1PersistentVolumeClaim>(
      env.destination.client,
      paths.pvc(namespace, "db-files"),
    );
    const pvName = claim?.spec?.volumeName as string;
    const pv = await getObject<V1PersistentVolume>(env.destination.client, paths.pv(pvName));
    expect(pv?.spec?.persistentVolumeReclaimPolicy).toBe("Delete");
    const image = env.destination.cluster.volumeImagePath(pv?.spec?.csi?.volumeHandle as string);
    expect(existsSync(image)).toBe(true);
    await deleteIfPresent(env.destination.client, paths.pvc(namespace, "db-files"));
    await waitFor(
      "the provisioner to delete the released volume and its PV",
      async () =>
        !existsSync(image) && (await getObject(env.destination.client, paths.pv(pvName))) === undefined,
      30_000,
    );
  }, 120_000);

  it("keeps a Filesystem volume's XFS on the destination PV, and its files mount there", async () => {
    const xfsNamespace = "shop-xfs";
    const xfsClass = "sim-xfs";
    await createOrGet(env.source.client, "/apis/storage.k8s.io/v1/storageclasses", {
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: { name: xfsClass },
      provisioner: blockDriver,
      parameters: { [FSTYPE_PARAMETER]: "xfs" },
      reclaimPolicy: "Delete",
      volumeBindingMode: "Immediate",
    });
    await createNamespace(env.source, xfsNamespace);
    // xfsprogs 6 makes no filesystem smaller than 300 MiB.
    const bytes = 320 * MiB;
    const sourceImage = await createVolume(
      env.source,
      xfsNamespace,
      "journal",
      bytes,
      "Filesystem",
      {},
      xfsClass,
    );
    await withMounted(sourceImage, "xfs", (dir) => writeFile(join(dir, "entry.txt"), "committed\n"));
    const repository = await openTestRepository(env, "volumes");
    const options = { runId: "run-xfs", namespace: xfsNamespace, pvcs: ["journal"], chunkBytes: 4 * MiB };
    const staged = await snapshotAndStage(env, repository, options);
    await createNamespace(env.destination, xfsNamespace);
    try {
      await restoreAll(env, repository, options, staged);
      const claim = await getObject<V1PersistentVolumeClaim>(
        env.destination.client,
        paths.pvc(xfsNamespace, "journal"),
      );
      const pv = await getObject<V1PersistentVolume>(
        env.destination.client,
        paths.pv(claim?.spec?.volumeName ?? ""),
      );
      expect(pv?.spec?.csi?.fsType).toBe("xfs");
      expect(pv?.metadata?.annotations?.["pv.kubernetes.io/provisioned-by"]).toBe(blockDriver);
      // Mounted as the PV says, the way the node plugin mounts it for the application's pod.
      const destinationImage = await imageOfClaim(env.destination, xfsNamespace, "journal");
      const text = await withMounted(destinationImage, pv?.spec?.csi?.fsType ?? "ext4", (dir) =>
        readFile(join(dir, "entry.txt"), "utf8"),
      );
      expect(text).toBe("committed\n");
    } finally {
      await cleanupBoth(env, "run-xfs");
    }
  }, 600_000);

  // Restore hashes the holes it does not write and zeroes those that hold a thick volume's leftovers.
  it("migrates a volume with holes onto a thick destination class", async () => {
    const thickNamespace = "shop-thick";
    await createNamespace(env.source, thickNamespace);
    const image = patternedImage(16 * MiB, chunkBytes);
    await writeImage(await createVolume(env.source, thickNamespace, "ledger", 16 * MiB, "Block"), image);
    const repository = await openTestRepository(env, "volumes");
    const options = {
      runId: "run-thick",
      namespace: thickNamespace,
      pvcs: ["ledger"],
      chunkBytes,
      destinationStorageClass: env.destination.cluster.classes.thick,
    };
    const staged = await snapshotAndStage(env, repository, options);
    await createNamespace(env.destination, thickNamespace);
    try {
      await restoreAll(env, repository, options, staged);
      const restored = await readImage(
        await imageOfClaim(env.destination, thickNamespace, "ledger"),
        16 * MiB,
      );
      expect(sha(restored)).toBe(sha(image));
    } finally {
      await cleanupBoth(env, "run-thick");
    }
  }, 600_000);

  it("snapshots and stages a volume of an app in a restricted namespace", async () => {
    const restricted = "shop-restricted";
    await createRestrictedNamespace(env.source.cluster.kubeConfig(), restricted);
    await createVolume(env.source, restricted, "orders", 8 * MiB, "Block");
    const repository = await openTestRepository(env, "volumes");
    try {
      await snapshotAndStage(env, repository, {
        runId: "run-restricted",
        namespace: restricted,
        pvcs: ["orders"],
        chunkBytes,
      });
    } finally {
      await cleanupBoth(env, "run-restricted");
    }
  }, 600_000);

  it("migrates an app in a restricted namespace with a tight quota, creating nothing of its own there", async () => {
    const governed = "shop-governed";
    const bytes = 8 * MiB;
    // Room for the app's one PVC and nothing else: a temporary PVC or a helper pod without a CPU
    // limit in this namespace would be refused at admission.
    const quota = {
      requestsCpu: "1",
      limitsCpu: "1",
      requestsStorage: String(bytes),
      persistentVolumeClaims: 1,
    };
    for (const side of [env.source, env.destination]) {
      await createRestrictedNamespace(side.cluster.kubeConfig(), governed);
      await addResourceQuota(side.cluster.kubeConfig(), governed, quota);
    }
    const image = Buffer.alloc(bytes);
    randomFill(image);
    await writeImage(await createVolume(env.source, governed, "orders", bytes, "Block"), image);
    const runId = "run-governed";
    const repository = await openTestRepository(env, "volumes");
    const looks: string[][] = [];
    const lookIntoAppNamespaces = async () => {
      looks.push([
        ...(await kubeferryObjectsIn(env.source, governed)),
        ...(await kubeferryObjectsIn(env.destination, governed)),
      ]);
    };
    try {
      const options = {
        runId,
        namespace: governed,
        pvcs: ["orders"],
        chunkBytes,
        beforeFinalize: lookIntoAppNamespaces,
      };
      const staged = await snapshotAndStage(env, repository, options);
      await lookIntoAppNamespaces();
      await restoreAll(env, repository, options, staged);
      expect(sha(await readImage(await imageOfClaim(env.destination, governed, "orders"), bytes))).toBe(
        sha(image),
      );
    } finally {
      await cleanupBoth(env, runId);
    }
    // The source's own VolumeSnapshot is the one exception: a snapshot of a PVC lives beside it.
    expect(looks).toEqual([
      [`VolumeSnapshot ${temporaryName("snap", runId, governed, "orders")}`],
      [`VolumeSnapshot ${temporaryName("snap", runId, governed, "orders")}`],
    ]);
  }, 600_000);
});
