import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CustomObjectsApi } from "@kubernetes/client-node";
import { afterAll, beforeAll, expect, it } from "vitest";
import { repositoryOpener } from "../../functions/lib/workflow/repository-location.ts";
import { type LocalClusters, startClusters } from "../env/clusters.ts";
import { type LambdaInvokeApi, startLambdaInvokeApi } from "../env/lambda-invoke-api.ts";
import { run } from "./run-cli.ts";

let clusters: LocalClusters;
let api: LambdaInvokeApi;
let home: string;
const saved: Record<string, string | undefined> = {};

function setEnvironment(values: Record<string, string>) {
  for (const [name, value] of Object.entries(values)) {
    saved[name] = process.env[name];
    process.env[name] = value;
  }
}

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), "kubeferry-remote-checks-"));
  [clusters, api] = await Promise.all([
    startClusters(["source", "destination"], { storage: false }),
    // The functions run on the same kubeferry home as this CLI: the local default, as deployed.
    startLambdaInvokeApi({
      KUBEFERRY_LOCAL_HOME: home,
      KUBEFERRY_BUCKET: null,
      KUBEFERRY_KMS_KEY_ARN: null,
      KUBEFERRY_REPOSITORY_KEY_ROLE_ARN: null,
      KUBEFERRY_EVENT_BUS: null,
    }),
  ]);
  setEnvironment({
    KUBEFERRY_HOME: home,
    // The CLI finds the Lambda Invoke API as the SDK does; the local one checks no signature.
    AWS_ENDPOINT_URL_LAMBDA: api.endpoint,
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "kubeferry-local",
    AWS_SECRET_ACCESS_KEY: "kubeferry-local-secret",
  });
  for (const cluster of clusters.clusters) {
    const added = await run(["cluster", "add", cluster.name, "--kubeconfig", cluster.kubeconfigPath]);
    expect(added.code, added.stderr).toBe(0);
  }
  const { source, destination } = {
    source: clusters.get("source"),
    destination: clusters.get("destination"),
  };
  const paired = await run([
    "pair",
    "create",
    "west",
    "--source",
    "source",
    "--destination",
    "destination",
    "--storage-class",
    `${source.classes.fast}=${destination.classes.fast}`,
  ]);
  expect(paired.code, paired.stdout + paired.stderr).toBe(0);
}, 600_000);

afterAll(async () => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await api?.stop();
  await clusters?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

it("pair check --remote runs the checks in the PairClusters function behind the Invoke API and prints each", {
  timeout: 120_000,
}, async () => {
  const before = (await run(["pair", "list", "-o", "json"])).stdout;
  const checked = await run(["pair", "check", "west", "--remote", "--function", "PairClusters"]);
  expect(checked.code, checked.stderr).toBe(0);
  const local = await run(["pair", "check", "west"]);
  const checkNames = local.stdout
    .split("\n")
    .slice(1)
    .map((line) => line.split(/\s+/)[0])
    .filter((name) => name && !name.startsWith("pair"));
  expect(checkNames.length).toBeGreaterThan(3);
  for (const name of checkNames) expect(checked.stdout).toMatch(new RegExp(`^${name}\\s+pass`, "m"));
  expect(checked.stdout).toContain("pair west: all checks passed");
  // The function wrote the record this CLI printed: its check time moved on.
  expect(JSON.parse(before)[0].checkedAt).not.toBe(
    JSON.parse((await run(["pair", "list", "-o", "json"])).stdout)[0].checkedAt,
  );
});

it("pair check --remote prints the checks and fails as the function's PairingError when a check fails", {
  timeout: 120_000,
}, async () => {
  // A source without a VolumeSnapshotClass fails the snapshot-class check where the function runs.
  const snapshots = { group: "snapshot.storage.k8s.io", version: "v1", plural: "volumesnapshotclasses" };
  const objects = clusters.get("source").kubeConfig().makeApiClient(CustomObjectsApi);
  const listed = (await objects.listClusterCustomObject(snapshots)) as {
    items: Array<{ metadata: { name: string } }>;
  };
  for (const item of listed.items)
    await objects.deleteClusterCustomObject({ ...snapshots, name: item.metadata.name });
  const checked = await run(["pair", "check", "west", "--remote", "--function", "PairClusters"]);
  expect(checked.code).not.toBe(0);
  expect(checked.stdout).toMatch(/^snapshot-class\s+FAIL/m);
  expect(checked.stderr).toContain("PairClusters");
});

it("pair check --remote names the function the Invoke API does not know", async () => {
  const checked = await run(["pair", "check", "west", "--remote", "--function", "NoSuchFunction"]);
  expect(checked.code).toBe(1);
  expect(checked.stderr).toMatch(/NoSuchFunction/);
});

it("verify --remote has the Verify function check the run's objects on the destination", {
  timeout: 120_000,
}, async () => {
  const repository = await repositoryOpener({ kind: "filesystem", root: home })("west");
  const object = (name: string) => ({
    group: "",
    version: "v1",
    kind: "Namespace",
    name,
    status: "Unchanged",
  });
  for (const [runId, objects] of [
    ["kf-present", [object("default")]],
    ["kf-missing", [object("default"), object("gone-since")]],
  ] as const) {
    await repository.manifests.writeRunRecord({
      version: 1,
      runId,
      pair: "west",
      status: "Succeeded",
      startedAt: new Date().toISOString(),
      namespaces: ["shop"],
      volumes: [],
      objects: [...objects],
    });
  }
  const present = await run([
    "verify",
    "--run",
    "kf-present",
    "--pair",
    "west",
    "--remote",
    "--function",
    "Verify",
  ]);
  expect(present.code, present.stderr).toBe(0);
  expect(present.stdout).toContain(
    "run kf-present: 1 objects present on the destination (checked by Verify)",
  );
  const missing = await run([
    "verify",
    "--run",
    "kf-missing",
    "--pair",
    "west",
    "--remote",
    "--function",
    "Verify",
  ]);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain("Namespace gone-since is missing on destination");
});
