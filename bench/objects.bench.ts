import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { mapBounded } from "../functions/lib/bounded-map.ts";
import { applyResources } from "../functions/lib/kube/apply/apply-resources.ts";
import { type ClusterClient, createClusterClient } from "../functions/lib/kube/client/cluster-client.ts";
import { exportResources } from "../functions/lib/kube/export/export-resources.ts";
import type { KubeObject } from "../functions/lib/kube/objects.ts";
import { NO_TRANSFORMS } from "../functions/lib/kube/transform/transform-object.ts";
import { startClusters } from "../test/env/clusters.ts";
import { ensureKubernetesBinaries } from "../test/env/k8s-binaries.ts";
import { median, progress, round, run, timed } from "./measure.ts";

/**
 * Objects between two real local clusters: kubeferry's export + apply of a namespace holding
 * 2,000 ConfigMaps and 500 Secrets, beside `kubectl get -o yaml | kubectl apply --server-side
 * -f -` of the same objects, in the same run (median of alternating rounds). `--json` prints
 * {kubeferry_s, kubectl_s, objects}.
 */
const { values: options } = parseArgs({ options: { json: { type: "boolean", default: false } } });

const NAMESPACE = "bench";
const SELECTOR = "kubeferry.io/bench=objects";
const CONFIG_MAPS = 2_000;
const ROUNDS = 4;
const SETTLE_MS = 5_000;
const SECRETS = 500;

function benchObjects(): KubeObject[] {
  const labels = { "kubeferry.io/bench": "objects" };
  const configMaps = Array.from(
    { length: CONFIG_MAPS },
    (_, i): KubeObject => ({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: `config-${i}`, namespace: NAMESPACE, labels },
      data: { "settings.properties": `index=${i}\n${"key=value\n".repeat(20)}` },
    }),
  );
  const secrets = Array.from(
    { length: SECRETS },
    (_, i): KubeObject => ({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: `secret-${i}`, namespace: NAMESPACE, labels },
      type: "Opaque",
      stringData: { password: `password-${i}-${"x".repeat(32)}` },
    }),
  );
  return [...configMaps, ...secrets];
}

async function create(client: ClusterClient, objects: KubeObject[]): Promise<void> {
  await client.request({
    method: "POST",
    path: "/api/v1/namespaces",
    body: { metadata: { name: NAMESPACE } },
  });
  await mapBounded(objects, 16, (object) =>
    client.request({
      method: "POST",
      path: `/api/v1/namespaces/${NAMESPACE}/${object.kind === "Secret" ? "secrets" : "configmaps"}`,
      body: object,
    }),
  );
}

async function countIn(client: ClusterClient, namespace: string): Promise<number> {
  let total = 0;
  for (const type of ["configmaps", "secrets"]) {
    const { body } = await client.request<{ items: unknown[] }>({
      method: "GET",
      path: `/api/v1/namespaces/${namespace}/${type}`,
      query: { labelSelector: SELECTOR },
    });
    total += body.items.length;
  }
  return total;
}

const binaries = await ensureKubernetesBinaries(progress);
const env = await startClusters(["source", "destination"], { storage: false, log: progress });
try {
  const source = await createClusterClient(env.get("source").kubeConfig(), { name: "source" });
  const destination = await createClusterClient(env.get("destination").kubeConfig(), { name: "destination" });
  const objects = benchObjects();
  progress(`creating ${objects.length} objects in namespace ${NAMESPACE} of the source`);
  await create(source, objects);

  /** kubeferry's export + apply into a fresh namespace; returns the seconds taken. */
  const kubeferryRound = async (namespace: string): Promise<number> => {
    progress(`kubeferry export + apply into ${namespace}`);
    const { result, seconds } = await timed(async () => {
      const exported = await exportResources(source, { namespaces: [NAMESPACE], selector: SELECTOR });
      return applyResources(destination, exported.objects, {
        existingResources: "update",
        dryRun: false,
        failFast: false,
        transforms: { ...NO_TRANSFORMS, namespaceMapping: { [NAMESPACE]: namespace } },
      });
    });
    if (result.status !== "Successful") throw new Error(`kubeferry's apply was ${result.status}`);
    return seconds;
  };

  /** The kubectl pipeline into a fresh namespace; returns the seconds taken. */
  const kubectlRound = async (namespace: string): Promise<number> => {
    await destination.request({
      method: "POST",
      path: "/api/v1/namespaces",
      body: { metadata: { name: namespace } },
    });
    progress(`kubectl get -o yaml | apply --server-side into ${namespace}`);
    // The source's uid, resourceVersion and creationTimestamp must go (the apply is refused with
    // "uid mismatch" otherwise) and the namespace is renamed: the least a kubectl migration needs.
    const pipeline = [
      `'${binaries.kubectl}' --kubeconfig '${env.get("source").kubeconfigPath}' get configmaps,secrets -n ${NAMESPACE} -l ${SELECTOR} -o yaml`,
      `sed -E -e '/^    (uid|resourceVersion|creationTimestamp): /d' -e 's/^    namespace: ${NAMESPACE}$/    namespace: ${namespace}/'`,
      `'${binaries.kubectl}' --kubeconfig '${env.get("destination").kubeconfigPath}' apply --server-side -f -`,
    ].join(" | ");
    return (await timed(() => run("bash", ["-o", "pipefail", "-c", `${pipeline} > /dev/null`]))).seconds;
  };

  // Each measurement starts once the destination's controllers have had time to digest the
  // previous 2,500 new objects (garbage collector graph, quota and namespace controllers).
  const settled = async (measure: () => Promise<number>): Promise<number> => {
    await sleep(SETTLE_MS);
    return measure();
  };

  // Rounds alternate which tool goes first, so that neither always inherits the other's
  // aftermath (controllers digesting 2,500 new objects); the median round counts.
  const kubeferrySeconds: number[] = [];
  const kubectlSeconds: number[] = [];
  for (let pass = 1; pass <= ROUNDS; pass++) {
    const kubeferryNamespace = `kubeferry-${pass}`;
    const kubectlNamespace = `kubectl-${pass}`;
    let kubeferry: number;
    let kubectl: number;
    if (pass % 2 === 1) {
      kubeferry = await settled(() => kubeferryRound(kubeferryNamespace));
      kubectl = await settled(() => kubectlRound(kubectlNamespace));
    } else {
      kubectl = await settled(() => kubectlRound(kubectlNamespace));
      kubeferry = await settled(() => kubeferryRound(kubeferryNamespace));
    }
    progress(`round ${pass}: kubeferry ${round(kubeferry)} s, kubectl ${round(kubectl)} s`);
    kubeferrySeconds.push(kubeferry);
    kubectlSeconds.push(kubectl);
    for (const namespace of [kubeferryNamespace, kubectlNamespace]) {
      const count = await countIn(destination, namespace);
      if (count !== objects.length) {
        throw new Error(
          `namespace ${namespace} of the destination holds ${count} of ${objects.length} objects`,
        );
      }
    }
  }
  source.close();
  destination.close();

  const result = {
    kubeferry_s: round(median(kubeferrySeconds)),
    kubectl_s: round(median(kubectlSeconds)),
    objects: objects.length,
  };
  if (options.json) console.log(JSON.stringify(result));
  else {
    console.log(
      `kubeferry export + apply: ${result.kubeferry_s} s for ${result.objects} objects (median of ${ROUNDS})`,
    );
    console.log(
      `kubectl get | apply --server-side: ${result.kubectl_s} s (${round(result.kubectl_s / result.kubeferry_s)}x kubeferry's time)`,
    );
  }
} finally {
  await env.stop();
}
