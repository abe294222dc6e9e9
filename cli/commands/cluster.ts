import { existsSync } from "node:fs";
import { resolve } from "node:path";
import {
  type ClusterEntry,
  readLocalConfig,
  writeLocalConfig,
} from "../../functions/lib/workflow/local-config.ts";
import { deleteClusterSecret, listClusterSecrets, putClusterSecret } from "../cluster-secrets.ts";
import { type Command, positional, stringOption, UsageError } from "../command.ts";
import { table } from "../output.ts";

const clusterName = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * Clusters are registered where runs read them: with the local repository, in
 * ~/.kubeferry/config.json (the kubeconfig's path and context); with an S3 --store, as Secrets
 * Manager secrets under kubeferry/clusters/ (a kubeconfig reduced to one context, or an EKS
 * cluster name and region), the only secrets the Lambda functions may read.
 */
const add: Command = {
  path: ["cluster", "add"],
  summary: "register a cluster by name (kubeconfig + context, or EKS name + region)",
  usage: "NAME (--kubeconfig PATH [--context CTX] | --eks-cluster NAME --region REGION, with an S3 --store)",
  options: {
    kubeconfig: { type: "string" },
    context: { type: "string" },
    "eks-cluster": { type: "string" },
    region: { type: "string" },
  },
  examples: [
    "kubeferry cluster add onprem --kubeconfig ~/.kube/config --context onprem-admin",
    "kubeferry cluster add west --eks-cluster prod-west --region us-west-2 --store s3://my-bucket/repositories --kms-key alias/kubeferry",
  ],
  async run(invocation, context) {
    const name = positional(invocation, 0, "cluster NAME");
    if (!clusterName.test(name))
      throw new UsageError(`cluster name "${name}" must be a DNS label (a-z, 0-9, -)`);
    const eks = stringOption(invocation, "eks-cluster");
    if (context.location.kind === "s3") {
      const region = stringOption(invocation, "region");
      if (eks !== undefined && !region) throw new UsageError("--region is required with --eks-cluster");
      await putClusterSecret(
        name,
        eks !== undefined
          ? { type: "eks", cluster: eks, region: region as string }
          : kubeconfigEntry(invocation.values),
      );
      const secret = `kubeferry/clusters/${name}`;
      context.output.result({ name, secret }, `cluster ${name} stored as secret ${secret}`);
      return 0;
    }
    if (eks !== undefined) {
      throw new UsageError(
        "--eks-cluster registers a cluster for runs in AWS: add --store s3://… --kms-key …",
      );
    }
    const entry = kubeconfigEntry(invocation.values);
    const config = await readLocalConfig(context.home);
    config.clusters[name] = entry;
    await writeLocalConfig(context.home, config);
    context.output.result({ name, ...entry }, `cluster ${name} registered`);
    return 0;
  },
};

function kubeconfigEntry(values: Record<string, unknown>): ClusterEntry {
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
    if (context.location.kind === "s3") {
      const rows = (await listClusterSecrets()).map((name) => ({
        name,
        secret: `kubeferry/clusters/${name}`,
      }));
      context.output.result(
        rows,
        table(
          ["NAME", "SECRET"],
          rows.map((row) => [row.name, row.secret]),
        ),
      );
      return 0;
    }
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
    if (context.location.kind === "s3") {
      await deleteClusterSecret(name);
      context.output.result(
        { name, removed: true },
        `secret kubeferry/clusters/${name} deleted (recoverable for 7 days)`,
      );
      return 0;
    }
    const config = await readLocalConfig(context.home);
    if (config.clusters[name] === undefined) throw new UsageError(`cluster "${name}" is not registered`);
    delete config.clusters[name];
    await writeLocalConfig(context.home, config);
    context.output.result({ name, removed: true }, `cluster ${name} removed`);
    return 0;
  },
};

export const clusterCommands = [add, list, remove];
