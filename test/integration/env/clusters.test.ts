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
});
