import type { V1Pod } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { DEMO_CLAIMS, DEMO_VOLUMES, demoApp } from "../../cli/demo-app.ts";
import type { KubeObject } from "../../functions/lib/kube/objects.ts";
import { createPair } from "../../functions/lib/kube/pairing/pairs.ts";
import { startHelperPod } from "../../functions/lib/volumes/helper-pod.ts";
import {
  deleteIfPresent,
  getObject,
  listObjects,
  paths,
  systemClock,
} from "../../functions/lib/volumes/kube-calls.ts";
import type { ExecTarget } from "../../functions/lib/volumes/pod-exec.ts";
import { waitFor } from "../env/clusters.ts";
import { filesDriver } from "../env/manifests/storage-objects.ts";
import { seed } from "../integration/kube/kube-test-env.ts";
import {
  imageOfClaim,
  patternedImage,
  readImage,
  type Side,
  temporaryObjects,
  writeImage,
} from "../integration/volumes/volume-env.ts";
import { failures, startWorkflowEnv, type WorkflowEnv } from "./workflow-env.ts";

// Whole migrations on a small shared machine: minutes, not seconds.
vi.setConfig({ testTimeout: 900_000 });

const PAIR = "files";
const NAMESPACE = "ledger-files";
/**
 * Two StatefulSets of the shapes of kubernetes/examples' cockroachdb (claim template "datadir",
 * its class set to local-path as k3s users do) and cassandra (claim template "cassandra-data",
 * its class named by the beta annotation as the example does), written here; one on local-path (no snapshots: read
 * live), one on the directory-mode CSI driver (snapshots, Filesystem only).
 */
const APPS = [
  { name: "cockroachdb", claim: "datadir-cockroachdb-0", template: "datadir", storageClass: "local-path" },
  {
    name: "cassandra",
    claim: "cassandra-data-cassandra-0",
    template: "cassandra-data",
    storageClass: "sim-files",
  },
] as const;
const MAPPING = { "local-path": "dest-files", "sim-files": "dest-fast" };

let env: WorkflowEnv;

function statefulSet(
  app: (typeof APPS)[number],
  namespace = NAMESPACE,
  storageClass: string = app.storageClass,
): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name: app.name, namespace, labels: { app: app.name } },
    spec: {
      replicas: 1,
      serviceName: app.name,
      selector: { matchLabels: { app: app.name } },
      template: {
        metadata: { labels: { app: app.name } },
        spec: {
          containers: [
            {
              name: app.name,
              image: `registry.local/${app.name}:1`,
              volumeMounts: [{ name: app.template, mountPath: "/data" }],
            },
          ],
        },
      },
      volumeClaimTemplates: [
        // The cassandra example names its class the old way, by the beta annotation.
        app.name === "cassandra"
          ? {
              metadata: {
                name: app.template,
                annotations: { "volume.beta.kubernetes.io/storage-class": storageClass },
              },
              spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "256Mi" } } },
            }
          : {
              metadata: { name: app.template },
              spec: {
                accessModes: ["ReadWriteOnce"],
                storageClassName: storageClass,
                resources: { requests: { storage: "256Mi" } },
              },
            },
      ],
    },
  } as KubeObject;
}

/** What a database's data directory holds: owners, setuid bits, links, odd names, a file of several exec pieces. */
const FILL = `
set -eu
cd "$KUBEFERRY_MOUNT"
mkdir -p store/sst store/wal "with space"
i=0
while [ $i -lt 200 ]; do
  dd if=/dev/urandom of=store/sst/$i.sst bs=$((1 + i * 53)) count=1 status=none
  i=$((i + 1))
done
dd if=/dev/urandom of=store/wal/000001.log bs=1048576 count=20 status=none
dd if=/dev/urandom of=store/sst/big.sst bs=65536 count=1 status=none
echo config > "with space/node conf"
: > store/empty
ln -s wal/000001.log store/CURRENT
ln store/sst/7.sst store/hard-7
chown -R 999:999 store
chmod 700 store
chmod 4750 store/sst/5.sst
touch -d @1600000000 store/sst/9.sst
`;

/**
 * Every path with its type, mode, owner and content digest (symlinks: their target), as busybox
 * sees it; directory sizes and mtimes are the filesystem's own. The destination's lost+found (a
 * block-backed class's ext4) and the hooks' marker files are left out, checked on their own.
 */
const FINGERPRINT = `
cd "$KUBEFERRY_MOUNT"
find . -mindepth 1 ! -path ./lost+found ! -path './lost+found/*' ! -name pre-hook ! -name post-hook | sort | while IFS= read -r p; do
  if [ -L "$p" ]; then echo "L $p -> $(readlink "$p")"
  elif [ -d "$p" ]; then echo "D $p $(stat -c '%a %u:%g' "$p")"
  else echo "F $p $(stat -c '%a %u:%g %s %Y' "$p") $(sha256sum < "$p" | cut -c1-64)"; fi
done
`;

async function appPod(
  side: Side,
  app: string,
  where = { namespace: NAMESPACE, pod: `${app}-0`, container: app },
): Promise<ExecTarget> {
  const { namespace, pod: name } = where;
  const target = { cluster: side.client.name, ...where, volume: "app data" };
  // Running comes a moment before the node shim has mounted the pod's volume: wait for the mount.
  await waitFor(`pod ${namespace}/${name} to run with its volume mounted`, async () => {
    const pod = await getObject<V1Pod>(side.client, paths.pod(namespace, name));
    if (pod?.status?.phase !== "Running") return false;
    await side.exec.run(target, { script: 'test -d "${KUBEFERRY_MOUNT:?}"', what: "mount check" });
    return true;
  });
  return target;
}

async function run(side: Side, target: ExecTarget, script: string): Promise<string> {
  return (await side.exec.run(target, { script, what: "test script" })).toString("utf8");
}

/** Runs a script in the source app's pod, on its volume. */
async function onSourceApp(app: string, script: string): Promise<string> {
  return run(env.volumes.source, await appPod(env.volumes.source, app), script);
}

/** Runs a script against a destination PVC through a helper pod of its own, removed afterwards. */
/** Runs a script against a PVC through a helper pod of its own, removed afterwards. */
async function onClaim(
  side: Side,
  claim: { namespace: string; name: string },
  script: string,
): Promise<string> {
  const { namespace } = claim;
  const name = `check-${claim.name}`.slice(0, 50);
  const pod = await startHelperPod(
    { client: side.client, exec: side.exec, clock: systemClock },
    {
      runId: "file-transport-check",
      namespace,
      name,
      claimName: claim.name,
      volumeMode: "Filesystem",
      readOnly: true,
      volume: `PVC ${namespace}/${claim.name}`,
      volumeBytes: 0,
    },
  );
  try {
    return await run(side, pod, script);
  } finally {
    await deleteIfPresent(side.client, paths.pod(namespace, name));
    await waitFor(`checker pod ${name} to go`, async () => {
      return (await getObject(side.client, paths.pod(namespace, name))) === undefined;
    });
  }
}

const onDestinationClaim = (claim: string, script: string) =>
  onClaim(env.volumes.destination, { namespace: NAMESPACE, name: claim }, script);

/** A pair of the test clusters whose directory-mode driver is named file-only. */
async function filesPair(
  name: string,
  direction: { source: string; destination: string },
  storageClassMapping: Record<string, string>,
  namespaceMapping: Record<string, string> = {},
): Promise<void> {
  const clients = {
    source: env.volumes[direction.source as "source" | "destination"].client,
    destination: env.volumes[direction.destination as "source" | "destination"].client,
  };
  await createPair(
    env.deps.pairs,
    // The test CSI driver's directory mode is an NFS-like driver kubeferry cannot know by name.
    { name, ...direction, storageClassMapping, namespaceMapping, fileDrivers: [filesDriver] },
    clients,
    new Date(),
  );
}

/** The demo app with its Filesystem volume on local-path (its Block one stays on the block driver). */
function demoOnLocalPath(namespace: string): KubeObject[] {
  return demoApp("sim-fast", namespace).map((object) => {
    if (object.kind !== "StatefulSet") return object;
    const copy = structuredClone(object) as any;
    copy.spec.volumeClaimTemplates[0].spec.storageClassName = "local-path";
    return copy;
  });
}

async function expectNoTemporaryObjects(): Promise<void> {
  expect(await temporaryObjects(env.volumes.source)).toEqual([]);
  expect(await temporaryObjects(env.volumes.destination)).toEqual([]);
}

const hook = (phase: string) =>
  APPS.map((app) => ({
    podSelector: `app=${app.name}`,
    container: app.name,
    command: ["sh", "-c", `echo ${phase} > "$KUBEFERRY_MOUNT/${phase}"`],
  }));
const request = {
  pair: PAIR,
  namespaces: [NAMESPACE],
  excludeResourceTypes: ["*.kwok.x-k8s.io"],
  hooks: { pre: hook("pre-hook"), post: hook("post-hook") },
};

beforeAll(async () => {
  env = await startWorkflowEnv();
  await filesPair(PAIR, { source: "source", destination: "destination" }, MAPPING);
  await seed(env.volumes.source.client, [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: NAMESPACE } } as KubeObject,
    ...APPS.map((app) => statefulSet(app)),
  ]);
  for (const app of APPS) await onSourceApp(app.name, FILL);
  await env.publishedEvents();
});

afterAll(async () => {
  await env?.stop();
});

describe("the file transport through the workflow", () => {
  it("moves a local-path volume (live) and a directory-mode CSI volume (snapshot) file by file, every file's digest, mode, owner and link equal", async () => {
    const migration = await env.run("migrate", request, "files-1");
    expect(migration.error, failures(migration)).toBeUndefined();
    const result = migration.output?.result;
    expect(result.status).toBe("Successful");
    expect(result.volumes.map((v: any) => [v.name, v.verified]).sort()).toEqual(
      APPS.map((app) => [app.claim, true]).sort(),
    );
    // The post hooks ran after the live volume was staged: PlanRanges and StageRanges came first.
    expect(migration.entered.indexOf("PostHooksAfterStaging")).toBeGreaterThan(
      migration.entered.indexOf("StageRanges"),
    );
    expect(migration.entered).not.toContain("PostHooks");

    const repository = await env.deps.openRepository(PAIR);
    const record = await repository.manifests.readRunRecord(result.runId);
    const moved = Object.fromEntries(record.volumes.map((v) => [v.name, v]));
    expect(moved[APPS[0].claim]).toMatchObject({
      transport: "file",
      consistency: "live",
      reason: expect.stringMatching(/rancher.io\/local-path.*the live volume is read between the hooks/),
    });
    expect(moved[APPS[1].claim]).toMatchObject({
      transport: "file",
      consistency: "snapshot",
      reason: expect.stringMatching(/serves filesystems only; read from a snapshot/),
    });

    for (const app of APPS) {
      const pvc = await getObject<any>(env.volumes.destination.client, paths.pvc(NAMESPACE, app.claim));
      expect(pvc.status.phase, app.claim).toBe("Bound");
      expect(pvc.spec.storageClassName, app.claim).toBe(MAPPING[app.storageClass]);
      const source = await onSourceApp(app.name, FINGERPRINT);
      expect(source.split("\n").length, app.claim).toBeGreaterThan(200);
      expect(await onDestinationClaim(app.claim, FINGERPRINT), app.claim).toBe(source);
      // Written by the pre hook, before the volume was read (live) or cut (snapshot): moved. Written
      // by the post hook, after the read or the cut: not in this run.
      const markers = await onDestinationClaim(
        app.claim,
        'cd "$KUBEFERRY_MOUNT"; ls pre-hook post-hook 2>/dev/null; true',
      );
      expect(markers.trim(), app.claim).toBe("pre-hook");
    }
    await expectNoTemporaryObjects();
  });

  it("a standby rerun stages and writes only the changed files and removes a deleted one", async () => {
    await onSourceApp(
      APPS[0].name,
      'set -eu; cd "$KUBEFERRY_MOUNT"; dd if=/dev/urandom of=store/sst/big.sst bs=65536 count=1 status=none; rm store/sst/11.sst',
    );
    const rerun = await env.run("migrate", { ...request, hooks: { pre: [], post: [] } }, "files-2");
    expect(rerun.error, failures(rerun)).toBeUndefined();
    const result = rerun.output?.result;
    expect(result.status).toBe("Successful");
    const byName = Object.fromEntries(result.volumes.map((v: any) => [v.name, v]));
    // The changed file, and the post hook's file of the first run on each volume.
    expect(byName[APPS[0].claim].chunksWritten).toBe(2);
    expect(byName[APPS[1].claim].chunksWritten).toBe(1);
    const changedBytes = 65_536 + "post-hook\n".length;
    expect(byName[APPS[0].claim].bytesStaged).toBeLessThanOrEqual(1.2 * changedBytes);
    expect(byName[APPS[0].claim].bytesStaged).toBeGreaterThan(0);

    for (const app of APPS) {
      const source = await onSourceApp(app.name, FINGERPRINT);
      expect(await onDestinationClaim(app.claim, FINGERPRINT), app.claim).toBe(source);
    }
    const listing = (
      await onDestinationClaim(APPS[0].claim, 'cd "$KUBEFERRY_MOUNT"; ls store/sst; ls')
    ).split("\n");
    expect(listing).not.toContain("11.sst");
    expect(listing).toContain("12.sst");
    expect(listing).toContain("post-hook");
    const helpers = await listObjects<V1Pod>(env.volumes.source.client, paths.pods(NAMESPACE));
    expect(helpers.map((pod) => pod.metadata?.name).sort()).toEqual(
      APPS.map((app) => `${app.name}-0`).sort(),
    );
    await expectNoTemporaryObjects();
  });

  it("a live volume the file transport refuses fails the run naming the path, and the post hooks still thaw the app", async () => {
    await onSourceApp(
      APPS[0].name,
      'set -eu; cd "$KUBEFERRY_MOUNT"; rm -f post-hook; mkfifo store/control.fifo',
    );
    try {
      const failed = await env.run("migrate", request, "files-3");
      expect(failed.error?.message).toMatch(/MigrationFailed/);
      const failure = (await env.publishedEvents()).find((e) => e["detail-type"] === "Migration Failed");
      expect(failure?.detail.error).toMatch(
        /PVC ledger-files\/datadir-cockroachdb-0.*"store\/control\.fifo".*not a regular file, directory or symlink/,
      );
      expect(failed.entered).toContain("PostHooksAfterFailure");
      expect(await onSourceApp(APPS[0].name, 'cat "$KUBEFERRY_MOUNT/post-hook"')).toBe("post-hook\n");
      await expectNoTemporaryObjects();
    } finally {
      await onSourceApp(APPS[0].name, 'rm -f "$KUBEFERRY_MOUNT/store/control.fifo"');
    }
  });

  it("with quiesce, the workload mounting a live volume is at 0 while it is read and back afterwards", async () => {
    const podUid = async (app: string) =>
      (await getObject<V1Pod>(env.volumes.source.client, paths.pod(NAMESPACE, `${app}-0`)))?.metadata?.uid;
    const before = { cockroach: await podUid(APPS[0].name), cassandra: await podUid(APPS[1].name) };
    const migration = await env.run(
      "migrate",
      { ...request, hooks: { pre: [], post: [] }, quiesce: true },
      "files-quiesced",
    );
    expect(migration.error, failures(migration)).toBeUndefined();
    const result = migration.output?.result;
    expect(result.status).toBe("Successful");
    const record = await (await env.deps.openRepository(PAIR)).manifests.readRunRecord(result.runId);
    const moved = Object.fromEntries(record.volumes.map((v) => [v.name, v.consistency]));
    expect(moved).toEqual({ [APPS[0].claim]: "quiesced", [APPS[1].claim]: "snapshot" });
    const set = await getObject<any>(
      env.volumes.source.client,
      `/apis/apps/v1/namespaces/${NAMESPACE}/statefulsets/${APPS[0].name}`,
    );
    expect(set.spec.replicas).toBe(1);
    expect(set.metadata.annotations?.["kubeferry.dev/quiesced"]).toBeUndefined();
    // The StatefulSet's pod was stopped for the read and started again; the snapshotted app's was not.
    await appPod(env.volumes.source, APPS[0].name);
    expect(await podUid(APPS[0].name)).not.toBe(before.cockroach);
    expect(await podUid(APPS[1].name)).toBe(before.cassandra);
    expect(await onDestinationClaim(APPS[0].claim, FINGERPRINT)).toBe(
      await onSourceApp(APPS[0].name, FINGERPRINT),
    );
    await expectNoTemporaryObjects();
  });

  it("moves the same volumes to the other kinds of class: local-path to a block-backed one, a -files one to a directory-backed one", async () => {
    const swapped = "ledger-swapped";
    const mapping = { "local-path": "dest-fast", "sim-files": "dest-files" };
    await filesPair("files-swapped", { source: "source", destination: "destination" }, mapping, {
      [NAMESPACE]: swapped,
    });
    const migration = await env.run(
      "migrate",
      { ...request, pair: "files-swapped", hooks: { pre: [], post: [] } },
      "files-swapped-1",
    );
    expect(migration.error, failures(migration)).toBeUndefined();
    expect(migration.output?.result.status).toBe("Successful");
    for (const app of APPS) {
      const claim = { namespace: swapped, name: app.claim };
      const pvc = await getObject<any>(env.volumes.destination.client, paths.pvc(swapped, app.claim));
      expect(pvc.spec.storageClassName, app.claim).toBe(mapping[app.storageClass]);
      expect(await onClaim(env.volumes.destination, claim, FINGERPRINT), app.claim).toBe(
        await onSourceApp(app.name, FINGERPRINT),
      );
    }
    await expectNoTemporaryObjects();
  });

  it("moves the copies back from the block-backed and the directory-backed class: a block driver's volume goes file by file into a file-only class", async () => {
    const back = "ledger-back";
    // dest-fast (block driver, snapshots) → sim-files: auto sees the file-only destination class.
    await filesPair(
      "files-back",
      { source: "destination", destination: "source" },
      { "dest-fast": "sim-files", "dest-files": "sim-fast" },
      { [NAMESPACE]: back },
    );
    const migration = await env.run(
      "migrate",
      { ...request, pair: "files-back", hooks: { pre: [], post: [] } },
      "files-back-1",
    );
    expect(migration.error, failures(migration)).toBeUndefined();
    const result = migration.output?.result;
    expect(result.status).toBe("Successful");
    const record = await (await env.deps.openRepository("files-back")).manifests.readRunRecord(result.runId);
    const moved = Object.fromEntries(record.volumes.map((v) => [v.name, v]));
    expect(moved[APPS[1].claim]).toMatchObject({
      transport: "file",
      consistency: "snapshot",
      reason: expect.stringMatching(
        /driver sim\.csi\.kubeferry\.dev: the destination class sim-files serves filesystems only/,
      ),
    });
    for (const app of APPS) {
      const claim = { namespace: back, name: app.claim };
      expect(await onClaim(env.volumes.source, claim, FINGERPRINT), app.claim).toBe(
        await onSourceApp(app.name, FINGERPRINT),
      );
    }
    await expectNoTemporaryObjects();
  });

  it("moves the demo app in one run: its Filesystem volume on local-path file by file, its Block volume by block copy", async () => {
    const namespace = "ledger-mixed";
    const [data = "", wal = ""] = DEMO_CLAIMS;
    await seed(env.volumes.source.client, demoOnLocalPath(namespace));
    const db = await appPod(env.volumes.source, "ledger", { namespace, pod: "ledger-0", container: "db" });
    await run(env.volumes.source, db, FILL);
    const walBytes = DEMO_VOLUMES[1].bytes;
    const walImage = patternedImage(walBytes, 4 * 1024 * 1024);
    await writeImage(await imageOfClaim(env.volumes.source, namespace, wal), walImage);
    await filesPair(
      "files-mixed",
      { source: "source", destination: "destination" },
      // sim-files: the pair check looks at every PVC of the source, the copies moved back included.
      { "local-path": "dest-fast", "sim-fast": "dest-fast", "sim-files": "dest-files" },
    );
    const migration = await env.run(
      "migrate",
      { pair: "files-mixed", namespaces: [namespace], excludeResourceTypes: ["*.kwok.x-k8s.io"] },
      "files-mixed-1",
    );
    expect(migration.error, failures(migration)).toBeUndefined();
    const result = migration.output?.result;
    expect(result.status).toBe("Successful");
    const record = await (await env.deps.openRepository("files-mixed")).manifests.readRunRecord(result.runId);
    const moved = Object.fromEntries(record.volumes.map((v) => [v.name, [v.transport, v.consistency]]));
    expect(moved).toEqual({ [data]: ["file", "live"], [wal]: ["block", undefined] });
    expect(await onClaim(env.volumes.destination, { namespace, name: data }, FINGERPRINT)).toBe(
      await run(env.volumes.source, db, FINGERPRINT),
    );
    const restoredWal = await imageOfClaim(env.volumes.destination, namespace, wal);
    expect((await readImage(restoredWal, walBytes)).equals(walImage)).toBe(true);
    await expectNoTemporaryObjects();
  });

  it("moves the cassandra-shaped app and the demo app from local-path into a directory-backed and a block-backed class", async () => {
    const namespace = "on-local-path";
    const cassandra = APPS[1];
    await seed(env.volumes.source.client, [
      ...demoOnLocalPath(namespace),
      statefulSet(cassandra, namespace, "local-path"),
    ]);
    const pods = {
      [cassandra.claim]: await appPod(env.volumes.source, cassandra.name, {
        namespace,
        pod: "cassandra-0",
        container: cassandra.name,
      }),
      [DEMO_CLAIMS[0] as string]: await appPod(env.volumes.source, "ledger", {
        namespace,
        pod: "ledger-0",
        container: "db",
      }),
    };
    for (const pod of Object.values(pods)) await run(env.volumes.source, pod, FILL);
    for (const storageClass of ["dest-files", "dest-fast"]) {
      const pair = `files-local-${storageClass}`;
      const into = `${namespace}-${storageClass}`;
      await filesPair(
        pair,
        { source: "source", destination: "destination" },
        { "local-path": storageClass, "sim-fast": "dest-fast", "sim-files": "dest-files" },
        { [namespace]: into },
      );
      const migration = await env.run(
        "migrate",
        { pair, namespaces: [namespace], excludeResourceTypes: ["*.kwok.x-k8s.io"] },
        `${pair}-1`,
      );
      expect(migration.error, failures(migration)).toBeUndefined();
      const result = migration.output?.result;
      expect(result.status).toBe("Successful");
      const record = await (await env.deps.openRepository(pair)).manifests.readRunRecord(result.runId);
      const moved = Object.fromEntries(record.volumes.map((v) => [v.name, [v.transport, v.consistency]]));
      expect(moved).toEqual({
        [cassandra.claim]: ["file", "live"],
        [DEMO_CLAIMS[0] as string]: ["file", "live"],
        [DEMO_CLAIMS[1] as string]: ["block", undefined],
      });
      for (const [claim, pod] of Object.entries(pods)) {
        const pvc = await getObject<any>(env.volumes.destination.client, paths.pvc(into, claim));
        expect(pvc.spec.storageClassName, claim).toBe(storageClass);
        expect(
          await onClaim(env.volumes.destination, { namespace: into, name: claim }, FINGERPRINT),
          claim,
        ).toBe(await run(env.volumes.source, pod, FINGERPRINT));
      }
    }
    await expectNoTemporaryObjects();
  });
});
