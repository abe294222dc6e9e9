import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { parse } from "yaml";
import { DEMO_NAMESPACE, demoApp } from "../../cli/demo-app.ts";
import { applyResources } from "../../functions/lib/kube/apply/apply-resources.ts";
import { type ClusterClient, createClusterClient } from "../../functions/lib/kube/client/cluster-client.ts";
import type { KubeObject } from "../../functions/lib/kube/objects.ts";
import { NO_TRANSFORMS } from "../../functions/lib/kube/transform/transform-object.ts";
import { run } from "../cli/run-cli.ts";
import { type LocalCluster, type LocalClusters, startClusters } from "../env/clusters.ts";

vi.setConfig({ testTimeout: 600_000 });

const root = join(import.meta.dirname, "..", "..");
let env: LocalClusters;
let previousHome: string | undefined;
const temporaryDirs: string[] = [];

async function apply(client: ClusterClient, objects: KubeObject[]) {
  const report = await applyResources(client, objects, {
    existingResources: "update",
    dryRun: false,
    failFast: true,
    transforms: NO_TRANSFORMS,
  });
  expect(report.status, JSON.stringify(report.objects.filter((o) => o.status === "Failed"))).toBe(
    "Successful",
  );
}

/**
 * A kubeconfig for a ServiceAccount bound to the README's ClusterRole, as an operator would
 * set up kubeferry's identity on each cluster.
 */
async function restrictedKubeconfig(cluster: LocalCluster, role: "source" | "destination"): Promise<string> {
  const admin = await createClusterClient(cluster.kubeConfig(), { name: cluster.name });
  const clusterRole = parse(readFileSync(join(root, "deploy", "rbac", `kubeferry-${role}.yaml`), "utf8"));
  await apply(admin, [
    clusterRole,
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "kubeferry", namespace: "kube-system" } },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: "kubeferry" },
      roleRef: {
        apiGroup: "rbac.authorization.k8s.io",
        kind: "ClusterRole",
        name: clusterRole.metadata.name,
      },
      subjects: [{ kind: "ServiceAccount", name: "kubeferry", namespace: "kube-system" }],
    },
  ]);
  const { body } = await admin.request<{ status: { token: string } }>({
    method: "POST",
    path: "/api/v1/namespaces/kube-system/serviceaccounts/kubeferry/token",
    body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 3600 } },
  });
  admin.close();
  const config = cluster.kubeConfig();
  const restricted = new KubeConfig();
  restricted.loadFromOptions({
    clusters: config.clusters,
    users: [{ name: "kubeferry", token: body.status.token }],
    contexts: [
      { name: cluster.name, cluster: config.getCurrentCluster()?.name as string, user: "kubeferry" },
    ],
    currentContext: cluster.name,
  });
  const dir = mkdtempSync(join(tmpdir(), "kubeferry-rbac-"));
  temporaryDirs.push(dir);
  const path = join(dir, `${cluster.name}.kubeconfig`);
  writeFileSync(path, restricted.exportConfig(), { mode: 0o600 });
  return path;
}

beforeAll(async () => {
  env = await startClusters(["source", "destination"]);
  previousHome = process.env.KUBEFERRY_HOME;
  process.env.KUBEFERRY_HOME = mkdtempSync(join(tmpdir(), "kubeferry-rbac-home-"));
  temporaryDirs.push(process.env.KUBEFERRY_HOME);
  const source = await createClusterClient(env.get("source").kubeConfig(), { name: "source" });
  await apply(source, demoApp("sim-fast"));
  source.close();
});

afterAll(async () => {
  for (const dir of temporaryDirs) rmSync(dir, { recursive: true, force: true });
  if (previousHome === undefined) delete process.env.KUBEFERRY_HOME;
  else process.env.KUBEFERRY_HOME = previousHome;
  await env?.stop();
});

it("the README's ClusterRoles are enough to pair and migrate a stateful app", async () => {
  const source = await restrictedKubeconfig(env.get("source"), "source");
  const destination = await restrictedKubeconfig(env.get("destination"), "destination");
  expect((await run(["cluster", "add", "src", "--kubeconfig", source])).code).toBe(0);
  expect((await run(["cluster", "add", "dst", "--kubeconfig", destination])).code).toBe(0);
  const pair = await run([
    "pair",
    "create",
    "rbac",
    "--source",
    "src",
    "--destination",
    "dst",
    "--storage-class",
    "sim-fast=dest-fast",
    "-o",
    "json",
  ]);
  expect(pair.code, pair.stdout + pair.stderr).toBe(0);
  // Before anything moves, the pair check says how each PVC of the namespace would move.
  const checked = await run(["pair", "check", "rbac", "-n", DEMO_NAMESPACE, "-o", "json"]);
  expect(checked.code, checked.stdout + checked.stderr).toBe(0);
  const transports = JSON.parse(checked.stdout).volumes as Array<{ transport: string }>;
  expect(transports.length).toBeGreaterThan(0);
  expect(transports.every((volume) => volume.transport === "block")).toBe(true);
  const migrated = await run([
    "migrate",
    "--pair",
    "rbac",
    "-n",
    DEMO_NAMESPACE,
    "--exclude-resource",
    "*.kwok.x-k8s.io",
    "-o",
    "json",
  ]);
  expect(migrated.code, migrated.stderr).toBe(0);
  const result = JSON.parse(migrated.stdout);
  expect(result.status).toBe("Successful");
  expect(result.volumes.map((volume: { verified: boolean }) => volume.verified)).toEqual([true, true]);
});
