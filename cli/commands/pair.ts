import type { V1PersistentVolumeClaim } from "@kubernetes/client-node";
import { PairingError } from "../../functions/lib/errors.ts";
import type { ClusterClient } from "../../functions/lib/kube/client/cluster-client.ts";
import {
  checkPair,
  createPair,
  type PairRecord,
  reversedPairSpec,
} from "../../functions/lib/kube/pairing/pairs.ts";
import { listObjects, paths } from "../../functions/lib/volumes/kube-calls.ts";
import { type VolumeTransport, volumeTransports } from "../../functions/lib/volumes/volume-transport.ts";
import { transportChoice } from "../../functions/lib/workflow/pair-access.ts";
import {
  type Command,
  choiceOption,
  countOption,
  listOption,
  positional,
  requiredOption,
  stringOption,
  UsageError,
} from "../command.ts";
import type { CliContext } from "../context.ts";
import { table } from "../output.ts";
import { functionNameOption, invokeFunction, runForInvocation } from "../remote-functions.ts";

/** "a=b,c=d" → { a: "b", c: "d" }: mapping flags, repeatable. */
function mappingOption(values: string[], flag: string): Record<string, string> {
  const mapping: Record<string, string> = {};
  for (const entry of values) {
    const [from, to, ...rest] = entry.split("=");
    if (!from || !to || rest.length > 0)
      throw new UsageError(`--${flag} takes FROM=TO pairs (got "${entry}")`);
    mapping[from] = to;
  }
  return mapping;
}

function checksTable(record: PairRecord): string {
  return table(
    ["CHECK", "RESULT", "REASON"],
    record.checks.map((check) => [check.name, check.passed ? "pass" : "FAIL", check.reason]),
  );
}

/** How each PVC of the namespaces asked about would move, as a run decides before anything moves. */
function transportsTable(volumes: readonly VolumeTransport[]): string {
  return table(
    ["VOLUME", "TRANSPORT", "DETAIL"],
    volumes.map((v) => [`${v.namespace}/${v.pvc}`, v.transport, v.reason]),
  );
}

/**
 * Prints every check, also when one failed (the error then says which to fix first), and the
 * volumes' transports when namespaces were named.
 */
async function reportChecks(
  context: CliContext,
  name: string,
  work: () => Promise<PairRecord>,
  transports?: () => Promise<VolumeTransport[]>,
): Promise<number> {
  try {
    const record = await work();
    const volumes = transports ? await transports() : undefined;
    const unmovable = (volumes ?? []).filter((v) => v.transport === "none").length;
    context.output.result(
      volumes ? { ...record, volumes } : record,
      [
        checksTable(record),
        ...(volumes ? [transportsTable(volumes)] : []),
        `pair ${record.name}: all checks passed` +
          (unmovable > 0 ? `; ${unmovable} volume(s) cannot move (see TRANSPORT none)` : ""),
      ].join("\n\n"),
    );
    return unmovable > 0 ? 1 : 0;
  } catch (error) {
    if (!(error instanceof PairingError)) throw error;
    const record = await context.deps.pairs.get(name);
    if (record) context.output.result(record, checksTable(record));
    throw error;
  }
}

async function connectBoth(context: CliContext, source: string, destination: string) {
  const deps = context.deps;
  return { source: await deps.connectCluster(source), destination: await deps.connectCluster(destination) };
}

const create: Command = {
  path: ["pair", "create"],
  summary: "pair a source and a destination cluster, checking both before anything moves",
  usage:
    "NAME --source CLUSTER --destination CLUSTER [--storage-class FROM=TO]... [--namespace FROM=TO]... [--helper-image IMAGE] [--keep-runs N] [--data-mover-namespace NS] [--zone FROM=TO]... [--volume-transport auto|block|file] [--file-driver DRIVER]...",
  options: {
    source: { type: "string" },
    destination: { type: "string" },
    "storage-class": { type: "string", multiple: true },
    namespace: { type: "string", multiple: true },
    "helper-image": { type: "string" },
    "keep-runs": { type: "string" },
    "data-mover-namespace": { type: "string" },
    zone: { type: "string", multiple: true },
    "volume-transport": { type: "string" },
    "file-driver": { type: "string", multiple: true },
  },
  examples: [
    "kubeferry pair create onprem-to-west --source onprem --destination west --storage-class ceph-rbd=gp3",
    "kubeferry pair create dr --source prod --destination standby --namespace shop=shop-dr -o json",
  ],
  async run(invocation, context) {
    const name = positional(invocation, 0, "pair NAME");
    const spec = {
      name,
      source: requiredOption(invocation, "source"),
      destination: requiredOption(invocation, "destination"),
      storageClassMapping: mappingOption(listOption(invocation, "storage-class"), "storage-class"),
      namespaceMapping: mappingOption(listOption(invocation, "namespace"), "namespace"),
      ...(stringOption(invocation, "helper-image")
        ? { helperImage: stringOption(invocation, "helper-image") }
        : {}),
      // Runs garbage collection keeps per namespace of this pair.
      ...(countOption(invocation, "keep-runs") ? { keepRuns: countOption(invocation, "keep-runs") } : {}),
      ...(stringOption(invocation, "data-mover-namespace")
        ? { dataMoverNamespace: stringOption(invocation, "data-mover-namespace") }
        : {}),
      ...(listOption(invocation, "zone").length > 0
        ? { zoneMapping: mappingOption(listOption(invocation, "zone"), "zone") }
        : {}),
      ...transportOptions(invocation),
    };
    const clients = await connectBoth(context, spec.source, spec.destination);
    const deps = context.deps;
    try {
      return await reportChecks(context, name, () => createPair(deps.pairs, spec, clients, new Date()));
    } finally {
      clients.source.close();
      clients.destination.close();
    }
  },
};

const check: Command = {
  path: ["pair", "check"],
  summary:
    "run a pair's checks again and show each with its reason (--remote: from the deployed PairClusters function, where the workflow runs)",
  usage: "NAME [-n NAMESPACE]... [--remote [--function NAME]]",
  options: {
    namespace: { type: "string", short: "n", multiple: true },
    remote: { type: "boolean" },
    function: { type: "string" },
  },
  examples: [
    "kubeferry pair check onprem-to-west",
    "kubeferry pair check onprem-to-west -n shop   # also: how each PVC of shop would move",
    "kubeferry pair check onprem-to-west --remote --function kubeferry-PairClusters --store s3://bucket/repositories --kms-key alias/kubeferry",
  ],
  async run(invocation, context) {
    const name = positional(invocation, 0, "pair NAME");
    const namespaces = listOption(invocation, "namespace");
    const deps = context.deps;
    const existing = await deps.pairs.get(name);
    if (!existing)
      throw new UsageError(`pair "${name}" does not exist (kubeferry pair list shows the pairs)`);
    if (invocation.values.remote === true) {
      const functionName = functionNameOption(
        invocation.values.function,
        "KUBEFERRY_PAIR_CLUSTERS_FUNCTION",
        "PairClustersFunctionName",
      );
      // The function records the checks in the pair record, which this CLI reads from the same store.
      const run = runForInvocation(name, {
        id: `pair-check-${Date.now()}`,
        namespaces: namespaces.length > 0 ? namespaces : ["default"],
      });
      return reportChecks(context, name, async () => {
        await invokeFunction(functionName, { run });
        const record = await deps.pairs.get(name);
        if (!record) throw new Error(`${functionName} checked pair ${name}, whose record is gone`);
        return record;
      });
    }
    const clients = await connectBoth(context, existing.source, existing.destination);
    try {
      return await reportChecks(
        context,
        name,
        () => checkPair(deps.pairs, name, clients, new Date(), namespaces.length > 0 ? { namespaces } : {}),
        namespaces.length > 0 ? () => namespaceTransports(clients, existing, namespaces) : undefined,
      );
    } finally {
      clients.source.close();
      clients.destination.close();
    }
  },
};

/** `--volume-transport` (the pair's default for its runs) and `--file-driver` (drivers that serve filesystems only). */
function transportOptions(invocation: Parameters<Command["run"]>[0]) {
  const fileDrivers = listOption(invocation, "file-driver");
  return {
    ...(stringOption(invocation, "volume-transport") === undefined
      ? {}
      : { volumeTransport: choiceOption(invocation, "volume-transport", ["auto", "block", "file"], "auto") }),
    ...(fileDrivers.length > 0 ? { fileDrivers } : {}),
  };
}

async function namespaceTransports(
  clients: { source: ClusterClient; destination: ClusterClient },
  pair: PairRecord,
  namespaces: string[],
): Promise<VolumeTransport[]> {
  const { source } = clients;
  const claims = await Promise.all(
    namespaces.map((namespace) => listObjects<V1PersistentVolumeClaim>(source, paths.pvcs(namespace))),
  );
  return volumeTransports(
    source,
    claims
      .flat()
      .map((claim) => ({ namespace: claim.metadata?.namespace ?? "", pvc: claim.metadata?.name ?? "" })),
    await transportChoice(pair, clients.destination, undefined),
  );
}

const reverse: Command = {
  path: ["pair", "reverse"],
  summary:
    "fail back: pair a pair's destination back to its source (same repository and key, mappings inverted); its runs replicate the activated copy home incrementally",
  usage: "NAME [--name REVERSED] [--storage-class FROM=TO]...",
  options: { name: { type: "string" }, "storage-class": { type: "string", multiple: true } },
  examples: [
    "kubeferry pair reverse onprem-to-west            # creates onprem-to-west-reverse",
    "kubeferry pair reverse onprem-to-west --name west-to-onprem --storage-class gp3=ceph-rbd",
  ],
  async run(invocation, context) {
    const origin = positional(invocation, 0, "pair NAME");
    const deps = context.deps;
    const record = await deps.pairs.get(origin);
    if (!record)
      throw new UsageError(`pair "${origin}" does not exist (kubeferry pair list shows the pairs)`);
    const name = stringOption(invocation, "name") ?? `${origin}-reverse`;
    const spec = reversedPairSpec(
      record,
      name,
      mappingOption(listOption(invocation, "storage-class"), "storage-class"),
    );
    const clients = await connectBoth(context, spec.source, spec.destination);
    try {
      return await reportChecks(context, name, () => createPair(deps.pairs, spec, clients, new Date()));
    } finally {
      clients.source.close();
      clients.destination.close();
    }
  },
};

const list: Command = {
  path: ["pair", "list"],
  summary: "list pairs with their clusters and last check",
  usage: "",
  options: {},
  examples: ["kubeferry pair list", "kubeferry pair list -o json"],
  async run(_invocation, context) {
    const pairs = await context.deps.pairs.list();
    context.output.result(
      pairs,
      pairs.length === 0
        ? "no pairs: kubeferry pair create NAME --source CLUSTER --destination CLUSTER"
        : table(
            ["NAME", "SOURCE", "DESTINATION", "CHECKS", "CHECKED"],
            pairs.map((pair) => [
              pair.name,
              pair.source,
              pair.destination,
              pair.checks.every((c) => c.passed) ? "passed" : "FAILED",
              pair.checkedAt,
            ]),
          ),
    );
    return 0;
  },
};

const remove: Command = {
  path: ["pair", "delete"],
  summary: "delete a pair record (staged data stays until kubeferry gc)",
  usage: "NAME",
  options: {},
  examples: ["kubeferry pair delete onprem-to-west"],
  async run(invocation, context) {
    const name = positional(invocation, 0, "pair NAME");
    const pairs = context.deps.pairs;
    if (!(await pairs.get(name))) throw new UsageError(`pair "${name}" does not exist`);
    await pairs.delete(name);
    context.output.result({ name, deleted: true }, `pair ${name} deleted`);
    return 0;
  },
};

export const pairCommands = [create, check, reverse, list, remove];
