// `npm run demo [-- --json]`: the whole product on the local default, as a newcomer first sees
// it. Two real local control planes (source, destination) with the real storage components; a
// stateful app with data written through its pod on the source; the kubeferry CLI registers
// the clusters, pairs them and migrates the app through the synthesized workflow definition;
// then every byte and object is checked on the destination, a report printed, and everything
// torn down.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { applyResources } from "../functions/lib/kube/apply/apply-resources.ts";
import { type ClusterClient, createClusterClient } from "../functions/lib/kube/client/cluster-client.ts";
import { NO_TRANSFORMS } from "../functions/lib/kube/transform/transform-object.ts";
import { KubeExec } from "../functions/lib/volumes/pod-exec.ts";
import type { RunResult } from "../functions/lib/workflow/run-result.ts";
import { type LocalClusters, startClusters, waitFor } from "../test/env/clusters.ts";
import { DEMO_CLAIMS, DEMO_NAMESPACE, demoApp } from "./demo-app.ts";
import { formatBytes, formatDuration } from "./format.ts";
import { main as kubeferry } from "./kubeferry.ts";
import { table } from "./output.ts";

const json = process.argv.includes("--json");
const say = (line: string) => (json ? process.stderr : process.stdout).write(`${line}\n`);
const startedAt = Date.now();

/** What the demo checks on both sides: SHA-256 of every file of the data volume and of the whole WAL device. */
const digestScript =
  'cd "$KUBEFERRY_MOUNT" && find . -type f | sort | xargs sha256sum && echo "wal $(sha256sum < "$KUBEFERRY_DEVICE" | cut -d" " -f1)"';

async function execIn(client: ClusterClient, exec: KubeExec, script: string): Promise<string> {
  const target = { cluster: client.name, namespace: DEMO_NAMESPACE, pod: "ledger-0", container: "db" };
  const outcome = await exec.runCommand(target, ["sh", "-c", script], 300_000);
  if (outcome.exitCode !== 0)
    throw new Error(`exec in ${client.name} ledger-0 failed: ${outcome.stderr || outcome.problem}`);
  return outcome.stdout;
}

async function waitForApp(client: ClusterClient, exec: KubeExec): Promise<void> {
  await waitFor(
    `pod ${DEMO_NAMESPACE}/ledger-0 on ${client.name} to run with its volumes`,
    async () => {
      const ready = await execIn(
        client,
        exec,
        'test -d "$KUBEFERRY_MOUNT" && test -b "$KUBEFERRY_DEVICE" && echo ok',
      ).catch(() => "");
      return ready.trim() === "ok";
    },
    180_000,
  );
}

/** Runs a kubeferry command in this process; its JSON result is returned, its progress shown. */
async function cli(args: string[]): Promise<{ code: number; output: unknown }> {
  const stdout = new PassThrough();
  const chunks: Buffer[] = [];
  stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
  say(`$ kubeferry ${args.join(" ")}`);
  const code = await kubeferry([...args, "-o", "json"], { stdout, stderr: process.stderr });
  const text = Buffer.concat(chunks).toString("utf8");
  return { code, output: text ? JSON.parse(text) : undefined };
}

async function demo(env: LocalClusters) {
  const source = env.get("source");
  const destination = env.get("destination");
  const sourceClient = await createClusterClient(source.kubeConfig(), { name: "source" });
  const destinationClient = await createClusterClient(destination.kubeConfig(), { name: "destination" });
  const sourceExec = new KubeExec(source.kubeConfig());
  const destinationExec = new KubeExec(destination.kubeConfig());
  try {
    say(
      `▸ deploying the ledger app (StatefulSet with a Filesystem and a Block volume, Service, ConfigMap, Secret) on source`,
    );
    await applyResources(sourceClient, demoApp(source.classes.fast), {
      existingResources: "update",
      dryRun: false,
      failFast: true,
      transforms: NO_TRANSFORMS,
    });
    await waitForApp(sourceClient, sourceExec);
    say("▸ writing known data through the app's pod: 40 table files on the data volume, 16 MiB of WAL");
    await execIn(
      sourceClient,
      sourceExec,
      'cd "$KUBEFERRY_MOUNT" && i=1; while [ $i -le 40 ]; do head -c 1048576 /dev/urandom > table-$i.dat; i=$((i+1)); done; ' +
        'dd if=/dev/urandom of="$KUBEFERRY_DEVICE" bs=1048576 count=16 conv=notrunc status=none',
    );
    const expected = await execIn(sourceClient, sourceExec, digestScript);

    for (const cluster of [source, destination]) {
      await cli(["cluster", "add", cluster.name, "--kubeconfig", cluster.kubeconfigPath]);
    }
    const pair = await cli([
      "pair",
      "create",
      "demo",
      "--source",
      "source",
      "--destination",
      "destination",
      "--storage-class",
      `${source.classes.fast}=${destination.classes.fast}`,
    ]);
    if (pair.code !== 0) throw new Error("pairing failed; see the checks above");
    // kwok's own objects (the node shim's Exec rules) belong to the local test environment.
    const migrated = await cli([
      "migrate",
      "--pair",
      "demo",
      "-n",
      DEMO_NAMESPACE,
      "--exclude-resource",
      "*.kwok.x-k8s.io",
    ]);
    const result = migrated.output as RunResult;

    say(
      "▸ verifying on destination: the app's pod reads the same files and WAL bytes, the objects are there",
    );
    await waitForApp(destinationClient, destinationExec);
    const actual = await execIn(destinationClient, destinationExec, digestScript);
    const bytesMatch = actual === expected;
    const objectsPresent = await Promise.all(
      ["configmaps/ledger-config", "secrets/ledger-credentials", "services/ledger"].map(async (path) => {
        const response = await destinationClient
          .request({ method: "GET", path: `/api/v1/namespaces/${DEMO_NAMESPACE}/${path}` })
          .catch(() => ({ status: 404 }));
        return response.status === 200;
      }),
    );
    const verified = bytesMatch && objectsPresent.every(Boolean);
    return { result, verified, files: expected.trim().split("\n").length };
  } finally {
    sourceClient.close();
    destinationClient.close();
  }
}

async function run(): Promise<number> {
  const home = mkdtempSync(join(tmpdir(), "kubeferry-demo-home-"));
  process.env.KUBEFERRY_HOME = home;
  say("▸ starting two local Kubernetes control planes (first run builds them from the Go module proxy)");
  const env = await startClusters(["source", "destination"], {
    log: (line) => process.stderr.write(`${line}\n`),
  });
  try {
    const { result, verified, files } = await demo(env);
    const volumes = result.volumes.map((volume) => ({
      name: `${volume.namespace}/${volume.name}`,
      bytes: volume.bytes,
      verified: volume.verified && verified,
    }));
    const status =
      result.status === "Successful" && verified
        ? "Successful"
        : result.status === "Successful"
          ? "Failed"
          : result.status;
    const report = {
      status,
      runId: result.runId,
      objects: result.objects,
      volumes,
      bytes_staged: result.bytesStaged,
      files_verified: files,
      duration_s: Math.round((Date.now() - startedAt) / 1000),
      ...(result.error ? { error: result.error } : {}),
    };
    if (json) process.stdout.write(`${JSON.stringify(report)}\n`);
    else {
      say("");
      say(`kubeferry demo: ${status} in ${formatDuration(report.duration_s)} (run ${result.runId})`);
      say(table(["OBJECTS", "COUNT"], Object.entries(result.objects)));
      say(
        table(
          ["VOLUME", "SIZE", "VERIFIED"],
          volumes.map((v) => [v.name, formatBytes(v.bytes), v.verified ? "yes" : "NO"]),
        ),
      );
      say(
        `${files} digests (every data file and the WAL device) equal on source and destination: ${verified ? "yes" : "NO"}`,
      );
    }
    if (DEMO_CLAIMS.some((claim) => !volumes.some((v) => v.name.endsWith(claim)))) return 1;
    return status === "Successful" ? 0 : 1;
  } finally {
    await env.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

process.exitCode = await run().catch((error: Error) => {
  process.stderr.write(`kubeferry demo failed: ${error.message}\n`);
  return 1;
});
