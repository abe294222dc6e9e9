import { hostname } from "node:os";
import {
  ApiException,
  ApisApi,
  AppsV1Api,
  AuthorizationV1Api,
  CoreV1Api,
  type KubeConfig,
  VersionApi,
} from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalClusters, startClusters, waitFor } from "../../env/clusters.ts";
import { zoneLabel } from "../../env/manifests/storage-objects.ts";
import { createQuotaNamespace, createRestrictedNamespace } from "../../env/namespaces.ts";
import { processesMentioning } from "./leftover-processes.ts";
import { execInPod } from "./pod-exec.ts";

let env: LocalClusters;

beforeAll(async () => {
  env = await startClusters(["source", "destination"], { storage: false });
});

afterAll(async () => {
  await env?.stop();
  expect(processesMentioning(env.workDir)).toEqual([]);
});

async function statusCodeOf(request: Promise<unknown>): Promise<number> {
  try {
    await request;
    return 200;
  } catch (error) {
    if (error instanceof ApiException) return error.code;
    throw error;
  }
}

async function runningDeploymentPod(kc: KubeConfig, namespace: string): Promise<string> {
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name: "web" },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: "web" } },
        template: {
          metadata: { labels: { app: "web" } },
          spec: { containers: [{ name: "web", image: "busybox" }] },
        },
      },
    },
  });
  let running: string[] = [];
  await waitFor(`pods of deployment ${namespace}/web to run`, async () => {
    const pods = await core.listNamespacedPod({ namespace, labelSelector: "app=web" });
    running = pods.items
      .filter((pod) => pod.status?.phase === "Running")
      .map((pod) => pod.metadata?.name as string);
    return running.length === 2;
  });
  return running[0] as string;
}

describe("local clusters", () => {
  it("both answer discovery with the pinned Kubernetes version and serve the snapshot API", async () => {
    for (const cluster of env.clusters) {
      const version = await cluster.kubeConfig().makeApiClient(VersionApi).getCode();
      expect(version.gitVersion).toBe("v1.37.2");
      const core = await cluster.kubeConfig().makeApiClient(CoreV1Api).getAPIResources();
      expect(core.resources.map((resource) => resource.name)).toContain("pods");
      const groups = await cluster.kubeConfig().makeApiClient(ApisApi).getAPIVersions();
      expect(groups.groups.map((group) => group.name)).toEqual(
        expect.arrayContaining(["snapshot.storage.k8s.io", "kwok.x-k8s.io", "apps", "storage.k8s.io"]),
      );
    }
  });

  it("are different clusters", async () => {
    const uids = await Promise.all(
      env.clusters.map(async (cluster) => {
        const ns = await cluster.kubeConfig().makeApiClient(CoreV1Api).readNamespace({ name: "kube-system" });
        return ns.metadata?.uid;
      }),
    );
    expect(new Set(uids).size).toBe(env.clusters.length);
  });

  it("let the admin token do everything", async () => {
    for (const cluster of env.clusters) {
      const review = await cluster
        .kubeConfig()
        .makeApiClient(AuthorizationV1Api)
        .createSelfSubjectAccessReview({
          body: { spec: { resourceAttributes: { verb: "*", group: "*", resource: "*" } } },
        });
      expect(review.status?.allowed).toBe(true);
      const core = cluster.kubeConfig().makeApiClient(CoreV1Api);
      await core.createNamespace({ body: { metadata: { name: "admin-check" } } });
      await core.createNamespacedSecret({ namespace: "admin-check", body: { metadata: { name: "s" } } });
      await core.deleteNamespace({ name: "admin-check" });
    }
  });

  it("refuse the limited token what its read-only role denies, with 403", async () => {
    for (const cluster of env.clusters) {
      const limited = cluster.kubeConfig("limited").makeApiClient(CoreV1Api);
      expect(await statusCodeOf(limited.listNamespacedPod({ namespace: "default" }))).toBe(200);
      expect(await statusCodeOf(limited.createNamespace({ body: { metadata: { name: "denied" } } }))).toBe(
        403,
      );
      expect(await statusCodeOf(limited.listNamespacedSecret({ namespace: "default" }))).toBe(403);
      expect(await statusCodeOf(limited.listNode())).toBe(403);
    }
  });

  it("run a Deployment's pods on the fake nodes", async () => {
    const kc = env.get("source").kubeConfig();
    const podName = await runningDeploymentPod(kc, "deploy-check");
    const pod = await kc
      .makeApiClient(CoreV1Api)
      .readNamespacedPod({ namespace: "deploy-check", name: podName });
    expect(env.get("source").nodeNames).toContain(pod.spec?.nodeName);
  });

  it("exec a real command on the host, with exit code and stderr of a failing one seen", async () => {
    const kc = env.get("destination").kubeConfig();
    const name = await runningDeploymentPod(kc, "exec-check");
    const pod = { namespace: "exec-check", name, container: "web" };

    const ok = await execInPod(kc, pod, ["hostname"]);
    expect(ok.status?.status, JSON.stringify(ok.status)).toBe("Success");
    expect(ok.stdout.toString().trim()).toBe(hostname());

    const failing = await execInPod(kc, pod, ["sh", "-c", "echo broken pipe >&2; exit 3"]);
    expect(failing.stderr).toBe("broken pipe\n");
    expect(failing.status?.status).toBe("Failure");
    // kwok reports the exit as an error message ("... exit status 3"), not as an ExitCode cause.
    expect(failing.status?.message).toMatch(/exit status 3\b/);
  });

  it("exec commands under busybox with a PATH of busybox applets only", async () => {
    const kc = env.get("source").kubeConfig();
    const name = await runningDeploymentPod(kc, "busybox-check");
    const pod = { namespace: "busybox-check", name, container: "web" };
    // argv[0] is resolved by kwok itself: a host `sh` here would be dash.
    const shell = await execInPod(kc, pod, ["sh", "-c", "readlink /proc/$$/exe; echo $PATH"]);
    const [exe, path] = shell.stdout.toString().trim().split("\n");
    expect(exe).toMatch(/\/busybox$/);
    const ls = await execInPod(kc, pod, ["sh", "-c", "ls --help 2>&1 | head -1"]);
    expect(ls.stdout.toString()).toMatch(/^BusyBox v/);
    expect(path).toMatch(/busybox/);
    // No host tool is reachable: bash and GNU tools exist on the host, not in the helper image.
    const host = await execInPod(kc, pod, ["sh", "-c", "command -v bash || echo none"]);
    expect(host.stdout.toString()).toBe("none\n");
  });

  it("have six nodes in three zones, so a four-replica StatefulSet with a hostPort schedules", async () => {
    const kc = env.get("source").kubeConfig();
    const core = kc.makeApiClient(CoreV1Api);
    const nodes = await core.listNode();
    expect(nodes.items).toHaveLength(6);
    const zones = nodes.items.map((node) => node.metadata?.labels?.[zoneLabel]);
    expect(new Set(zones)).toEqual(new Set(["zone-a", "zone-b", "zone-c"]));
    for (const node of nodes.items) {
      expect(node.metadata?.labels).toMatchObject({
        "kubernetes.io/hostname": node.metadata?.name,
        "kubernetes.io/os": "linux",
      });
    }
    await core.createNamespace({ body: { metadata: { name: "hostport-check" } } });
    await kc.makeApiClient(AppsV1Api).createNamespacedStatefulSet({
      namespace: "hostport-check",
      body: {
        metadata: { name: "gossip" },
        spec: {
          replicas: 4,
          serviceName: "gossip",
          podManagementPolicy: "Parallel",
          selector: { matchLabels: { app: "gossip" } },
          template: {
            metadata: { labels: { app: "gossip" } },
            spec: {
              containers: [
                { name: "gossip", image: "busybox", ports: [{ containerPort: 7000, hostPort: 7000 }] },
              ],
            },
          },
        },
      },
    });
    await waitFor("four gossip pods to run", async () => {
      const pods = await core.listNamespacedPod({ namespace: "hostport-check", labelSelector: "app=gossip" });
      return pods.items.filter((pod) => pod.status?.phase === "Running").length === 4;
    });
    const pods = await core.listNamespacedPod({ namespace: "hostport-check", labelSelector: "app=gossip" });
    expect(new Set(pods.items.map((pod) => pod.spec?.nodeName)).size).toBe(4);
  });

  it("offer namespaces that admit like production ones: restricted Pod Security, CPU and storage quota", async () => {
    const kc = env.get("destination").kubeConfig();
    const core = kc.makeApiClient(CoreV1Api);
    await createRestrictedNamespace(kc, "restricted-check");
    const privileged = core.createNamespacedPod({
      namespace: "restricted-check",
      body: {
        metadata: { name: "root" },
        spec: { containers: [{ name: "c", image: "busybox", securityContext: { privileged: true } }] },
      },
    });
    expect(await statusCodeOf(privileged)).toBe(403);
    await core.createNamespacedPod({
      namespace: "restricted-check",
      body: {
        metadata: { name: "ok" },
        spec: {
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 1000,
            seccompProfile: { type: "RuntimeDefault" },
          },
          containers: [
            {
              name: "c",
              image: "busybox",
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
            },
          ],
        },
      },
    });

    await createQuotaNamespace(kc, "quota-check");
    // The quota controller computes the quota's usage a moment after it is created.
    await waitFor("the quota to be in effect", async () => {
      const quota = await core.readNamespacedResourceQuota({ namespace: "quota-check", name: "quota" });
      return quota.status?.used !== undefined;
    });
    const unbounded = core.createNamespacedPod({
      namespace: "quota-check",
      body: { metadata: { name: "unbounded" }, spec: { containers: [{ name: "c", image: "busybox" }] } },
    });
    expect(await statusCodeOf(unbounded)).toBe(403);
    const tooBig = core.createNamespacedPersistentVolumeClaim({
      namespace: "quota-check",
      body: {
        metadata: { name: "big" },
        spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Ti" } } },
      },
    });
    expect(await statusCodeOf(tooBig)).toBe(403);
  });
});
