import { z } from "zod";
import { ConflictError, PairingError, ValidationError } from "../../errors.ts";
import type { BlobStore } from "../../repository/blob-store.ts";
import { DEFAULT_DATA_MOVER_NAMESPACE } from "../../volumes/data-mover.ts";
import type { ClusterClient } from "../client/cluster-client.ts";
import { mapNamespace } from "../transform/namespace-mapping.ts";
import { type CheckScope, type PairContext, runPairingChecks } from "./pairing-checks.ts";

const dnsLabel = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, "must be a DNS-1123 label");
const nameMapping = z.record(z.string().min(1), z.string().min(1));
/**
 * Two source namespaces sent to one destination namespace would have each run replace the other's
 * objects and volumes of the same names, so such a mapping is refused.
 */
const namespaceMapping = nameMapping.superRefine((mapping, context) => {
  const sources = new Map<string, string>();
  for (const [source, destination] of Object.entries(mapping)) {
    const other = sources.get(destination);
    if (other !== undefined) {
      context.addIssue({
        code: "custom",
        message: `${other} and ${source} both map to ${destination}; give each source namespace its own destination namespace`,
      });
    }
    sources.set(destination, source);
  }
});

/** What a person chooses when creating a pair; clusters are referred to by their registered names. */
export const pairSpecSchema = z.strictObject({
  name: dnsLabel,
  source: z.string().min(1),
  destination: z.string().min(1),
  storageClassMapping: nameMapping.default({}),
  namespaceMapping: namespaceMapping.default({}),
  /** Image of the helper pods that read and write volumes (default busybox, set by the volume steps). */
  helperImage: z.string().min(1).optional(),
  /** Runs kept per namespace by garbage collection (default: the deployment's, else 10). */
  keepRuns: z.number().int().min(1).optional(),
  /**
   * The namespace on both clusters where snapshots are read and written (temporary PVCs, helper
   * pods); default kubeferry-system, created when absent.
   */
  dataMoverNamespace: dnsLabel.optional(),
  /** Source zone → destination zone, for placing volumes of WaitForFirstConsumer classes. */
  zoneMapping: nameMapping.optional(),
  /** How this pair's volumes move unless a request says otherwise (volume-transport.ts). */
  volumeTransport: z.enum(["auto", "block", "file"]).optional(),
  /** CSI drivers (of either cluster) that serve filesystems only, beyond the ones kubeferry knows. */
  fileDrivers: z.array(z.string().min(1)).optional(),
  /**
   * The repository (chunks, manifests, run records, key) this pair's runs use; default: one named
   * after the pair. A reversed pair names its origin's, so replicating back reuses what is staged.
   */
  repository: dnsLabel.optional(),
  /**
   * The pair this one reverses (`kubeferry pair reverse`): its runs may write into the origin's own
   * PVCs on its destination (the origin pair's source volumes), which no kubeferry restore made.
   */
  reverseOf: dnsLabel.optional(),
});

export const pairRecordSchema = pairSpecSchema.extend({
  version: z.literal(1),
  checks: z.array(z.strictObject({ name: z.string(), passed: z.boolean(), reason: z.string() })),
  createdAt: z.iso.datetime(),
  checkedAt: z.iso.datetime(),
});

export type PairSpec = z.input<typeof pairSpecSchema>;
export type PairRecord = z.infer<typeof pairRecordSchema>;

export interface PairClients {
  source: ClusterClient;
  destination: ClusterClient;
}

/**
 * Pair records, kept beside the pairs' repositories in the root store under "_pairs/" (an
 * underscore cannot start a pair name, so no repository can collide). Records hold cluster
 * names, mappings and check results: no credentials, so they are stored as plain JSON.
 */
export class PairStore {
  constructor(private readonly root: BlobStore) {}

  async get(name: string): Promise<PairRecord | undefined> {
    const data = await this.root.get(keyOf(name));
    if (data === undefined) return undefined;
    const parsed = pairRecordSchema.safeParse(JSON.parse(data.toString("utf8")));
    if (!parsed.success) {
      throw new Error(
        `pair record ${this.root.location}${keyOf(name)} is damaged: ${z.prettifyError(parsed.error)}`,
      );
    }
    return parsed.data;
  }

  async list(): Promise<PairRecord[]> {
    const records: PairRecord[] = [];
    for await (const info of this.root.list(PREFIX)) {
      const record = await this.get(info.key.slice(PREFIX.length, -".json".length));
      if (record) records.push(record);
    }
    return records;
  }

  async put(record: PairRecord): Promise<void> {
    await this.root.put(
      keyOf(record.name),
      Buffer.from(JSON.stringify(pairRecordSchema.parse(record), null, 2)),
    );
  }

  async delete(name: string): Promise<void> {
    await this.root.delete(keyOf(name));
  }
}

const PREFIX = "_pairs/";
const keyOf = (name: string) => `${PREFIX}${name}.json`;

/**
 * Creates a pair: checks both clusters, stores the record with every check's result (also
 * when a check fails, so `list` shows why), and raises a PairingError naming the first failed
 * check. An existing pair is not overwritten: check it again or delete it.
 */
export async function createPair(
  pairs: PairStore,
  spec: PairSpec,
  clients: PairClients,
  now: Date,
): Promise<PairRecord> {
  const parsed = pairSpecSchema.safeParse(spec);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ValidationError(`pair ${spec.name}: ${issue?.path.join(".") || "(spec)"}: ${issue?.message}`);
  }
  if (await pairs.get(parsed.data.name)) {
    throw new ConflictError(
      `pair ${parsed.data.name} already exists: check it again, or delete it before creating it anew`,
    );
  }
  const checks = await runPairingChecks(
    clients.source,
    clients.destination,
    parsed.data.storageClassMapping,
    pairContext(parsed.data),
  );
  const record: PairRecord = {
    ...parsed.data,
    version: 1,
    checks,
    createdAt: now.toISOString(),
    checkedAt: now.toISOString(),
  };
  await pairs.put(record);
  throwIfFailed(record);
  return record;
}

/** Runs the checks of an existing pair again (before every run, and on demand) and stores the results. */
export async function checkPair(
  pairs: PairStore,
  name: string,
  clients: PairClients,
  now: Date,
  scope: CheckScope = {},
): Promise<PairRecord> {
  const existing = await pairs.get(name);
  if (!existing)
    throw new ValidationError(`pair ${name} does not exist: create it with \`kubeferry pair create\``);
  const checks = await runPairingChecks(
    clients.source,
    clients.destination,
    existing.storageClassMapping,
    pairContext(existing),
    scope,
  );
  const record: PairRecord = { ...existing, checks, checkedAt: now.toISOString() };
  await pairs.put(record);
  throwIfFailed(record);
  return record;
}

/**
 * The spec of the pair that replicates `pair`'s destination back to its source (failback): the
 * clusters swapped, the namespace, class and zone mappings inverted, the same repository (the same
 * key and key policy, the staged chunks reused) and everything else as the origin has it. A
 * mapping that sends two names to one cannot be inverted: the error names them and what to pass.
 */
export function reversedPairSpec(
  pair: PairRecord,
  name: string,
  storageClassMapping: Record<string, string> = {},
): PairSpec {
  if (pair.reverseOf !== undefined && pair.reverseOf === name) {
    throw new ValidationError(
      `pair ${pair.name} already reverses pair ${name}: replicate back with pair ${name} itself`,
    );
  }
  const { version, checks, createdAt, checkedAt, reverseOf, ...spec } = pair;
  const classes = invert(
    pair.storageClassMapping,
    `pair ${pair.name}: storage classes`,
    storageClassMapping,
    "--storage-class",
  );
  return {
    ...spec,
    name,
    source: pair.destination,
    destination: pair.source,
    storageClassMapping: classes,
    namespaceMapping: invert(pair.namespaceMapping, `pair ${pair.name}: namespaces`),
    ...(pair.zoneMapping ? { zoneMapping: invert(pair.zoneMapping, `pair ${pair.name}: zones`) } : {}),
    repository: pair.repository ?? pair.name,
    reverseOf: pair.name,
  };
}

/** to → from; a `to` that two names map to must be chosen (a key of `chosen`), or it is refused. */
function invert(
  mapping: Record<string, string>,
  what: string,
  chosen: Record<string, string> = {},
  flag?: string,
): Record<string, string> {
  const inverted: Record<string, string> = {};
  for (const [from, to] of Object.entries(mapping)) {
    const other = inverted[to];
    if (other !== undefined && chosen[to] === undefined) {
      // Choosing one of them here would send the other's volumes into it unasked.
      throw new ValidationError(
        `${what} ${other} and ${from} both map to ${to}, so the reversed pair cannot tell which to map it back to` +
          (flag ? `; choose with ${flag} ${to}=${other} (or =${from})` : ""),
      );
    }
    inverted[to] = from;
  }
  return { ...inverted, ...chosen };
}

/** The pair's data-mover namespace, namespace mapping and helper image, as runs and checks use them. */
export function pairContext(pair: z.infer<typeof pairSpecSchema>): PairContext {
  return {
    name: pair.name,
    ...(pair.helperImage ? { helperImage: pair.helperImage } : {}),
    dataMover: pair.dataMoverNamespace ?? DEFAULT_DATA_MOVER_NAMESPACE,
    destinationOf: (namespace) => mapNamespace(pair.namespaceMapping, namespace),
  };
}

function throwIfFailed(record: PairRecord): void {
  const failed = record.checks.filter((check) => !check.passed);
  const [first, ...others] = failed;
  if (!first) return;
  const rest = others.length > 0 ? ` (also failed: ${others.map((check) => check.name).join(", ")})` : "";
  throw new PairingError(`pair ${record.name}: check ${first.name} failed: ${first.reason}${rest}`);
}
