import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import type { LocalCluster, LocalClusters } from "./clusters.ts";
import { type LinkOptions, type LinkProxy, startLinkProxy, targetOf } from "./link-proxy.ts";

/**
 * The same clusters, with the named ones reached through a link proxy: their server, kubeconfig
 * files and KubeConfig objects point at the proxy (TLS passes through it untouched, and the API
 * server's certificate names 127.0.0.1 whatever the port). stop() stops the proxies too.
 */
export async function linkClusters(
  clusters: LocalClusters,
  links: Record<string, LinkOptions>,
): Promise<LocalClusters & { proxies: Record<string, LinkProxy> }> {
  const proxies: Record<string, LinkProxy> = {};
  const linked = new Map<string, LocalCluster>();
  try {
    for (const [name, link] of Object.entries(links)) {
      const cluster = clusters.get(name);
      const proxy = await startLinkProxy(targetOf(cluster.server), link);
      proxies[name] = proxy;
      linked.set(name, await behind(cluster, `https://${proxy.host}:${proxy.port}`));
    }
  } catch (error) {
    await Promise.all(Object.values(proxies).map((proxy) => proxy.stop()));
    throw error;
  }
  const view = (cluster: LocalCluster) => linked.get(cluster.name) ?? cluster;
  return {
    workDir: clusters.workDir,
    clusters: clusters.clusters.map(view),
    get: (name) => view(clusters.get(name)),
    proxies,
    async stop() {
      await Promise.all(Object.values(proxies).map((proxy) => proxy.stop()));
      await clusters.stop();
    },
  };
}

async function behind(cluster: LocalCluster, server: string): Promise<LocalCluster> {
  const rewrite = async (path: string, suffix: string) => {
    const linkedPath = join(cluster.workDir, `kubeconfig-linked${suffix}.yaml`);
    await writeFile(linkedPath, (await readFile(path, "utf8")).replaceAll(cluster.server, server));
    return linkedPath;
  };
  return {
    ...cluster,
    server,
    kubeconfigPath: await rewrite(cluster.kubeconfigPath, ""),
    limitedKubeconfigPath: await rewrite(cluster.limitedKubeconfigPath, "-limited"),
    kubeConfig(user) {
      const direct = cluster.kubeConfig(user);
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: direct.clusters.map((entry) => ({ ...entry, server })),
        users: direct.users,
        contexts: direct.contexts,
        currentContext: direct.currentContext,
      });
      return kc;
    },
  };
}
