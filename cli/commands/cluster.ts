import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { type Command, positional, UsageError } from "../command.ts";
import { type ClusterEntry, readLocalConfig, writeLocalConfig } from "../local-config.ts";

import { table } from "../output.ts";

const clusterName = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

const add: Command = {
  path: ["cluster", "add"],
  summary: "register a cluster by name (kubeconfig + context, or EKS name + region)",
  usage: "NAME --kubeconfig PATH [--context CTX]",
  options: {
    kubeconfig: { type: "string" },
    context: { type: "string" },
  },
  examples: [
    "kubeferry cluster add onprem --kubeconfig ~/.kube/config --context onprem-admin",
    "kubeferry cluster add west --kubeconfig ~/.kube/west.yaml   # e.g. written by aws eks update-kubeconfig",
  ],
  async run(invocation, context) {
    const name = positional(invocation, 0, "cluster NAME");
    if (!clusterName.test(name))
      throw new UsageError(`cluster name "${name}" must be a DNS label (a-z, 0-9, -)`);
    const entry = clusterEntry(invocation.values);
    const config = await readLocalConfig(context.home);
    config.clusters[name] = entry;
    await writeLocalConfig(context.home, config);
    context.output.result({ name, ...entry }, `cluster ${name} registered`);
    return 0;
  },
};

function clusterEntry(values: Record<string, unknown>): ClusterEntry {
  const kubeconfig = values.kubeconfig as string | undefined;
  if (kubeconfig === undefined) throw new UsageError("--kubeconfig PATH is required");
  const path = resolve(kubeconfig);
  if (!existsSync(path)) throw new UsageError(`--kubeconfig ${path} does not exist`);
  const contextName = values.context as string | undefined;
  return contextName === undefined ? { kubeconfig: path } : { kubeconfig: path, context: contextName };
}

const list: Command = {
  path: ["cluster", "list"],
  summary: "list registered clusters",
  usage: "",
  options: {},
  examples: ["kubeferry cluster list", "kubeferry cluster list -o json"],
  async run(_invocation, context) {
    const { clusters } = await readLocalConfig(context.home);
    const rows = Object.entries(clusters).map(([name, entry]) => ({ name, ...entry }));
    context.output.result(
      rows,
      rows.length === 0
        ? "no clusters registered: kubeferry cluster add NAME --kubeconfig PATH"
        : table(
            ["NAME", "SOURCE"],
            rows.map((row) => [
              row.name,
              `${row.kubeconfig}${row.context ? ` (context ${row.context})` : ""}`,
            ]),
          ),
    );
    return 0;
  },
};

const remove: Command = {
  path: ["cluster", "remove"],
  summary: "forget a registered cluster (the cluster itself is not touched)",
  usage: "NAME",
  options: {},
  examples: ["kubeferry cluster remove onprem"],
  async run(invocation, context) {
    const name = positional(invocation, 0, "cluster NAME");
    const config = await readLocalConfig(context.home);
    if (config.clusters[name] === undefined) throw new UsageError(`cluster "${name}" is not registered`);
    delete config.clusters[name];
    await writeLocalConfig(context.home, config);
    context.output.result({ name, removed: true }, `cluster ${name} removed`);
    return 0;
  },
};

export const clusterCommands = [add, list, remove];
