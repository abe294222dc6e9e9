import { isDeepStrictEqual } from "node:util";
import { mapBounded } from "../../bounded-map.ts";
import { ConflictError } from "../../errors.ts";
import type { ClusterClient } from "../client/cluster-client.ts";
import { isNotFound } from "../client/kube-api-error.ts";
import { discoverResources, ResourceMapper } from "../export/discovery.ts";
import { describeObject, type KubeObject, objectRef } from "../objects.ts";
import { groupResource, type KubeResource, resourcePath } from "../resources.ts";
import { type TransformOptions, transformObject } from "../transform/transform-object.ts";
import { applyTiers } from "./apply-order.ts";
import { type ObjectStatus, type RunStatus, runStatus } from "./apply-report.ts";
import { defaultWaitOptions, type WaitOptions, waitForCrdEstablished } from "./crd-established.ts";
import { type ExistingPolicy, existingPolicyFor } from "./existing-policy.ts";
import { isNodePortRefusal, requestedNodePorts, withoutNodePorts } from "./node-ports.ts";

const FIELD_MANAGER = "kubeferry";

/**
 * Apply requests in flight inside a tier. Writes are bound by etcd commits, which batch
 * concurrent writes: 64 in flight applies several times faster than one at a time, and the
 * API server's priority and fairness queues protect it from more than it can serve.
 */
const DEFAULT_PARALLELISM = 64;

export interface ApplyOptions {
  /** What to do with an object that already exists on the destination. */
  existingResources: ExistingPolicy;
  /** Server-side dry run: report what would be created or changed, write nothing. */
  dryRun: boolean;
  /** Stop at the first object the destination refuses (the run is then Failed). */
  failFast: boolean;
  transforms: TransformOptions;
  /** Concurrent apply requests inside a tier. */
  parallelism?: number;
  crdWait?: WaitOptions;
}

export interface ApplyReport {
  status: RunStatus;
  objects: ObjectStatus[];
  /** Things that went through but differ from the source (e.g. a reassigned node port). */
  warnings: string[];
}

interface Planned {
  resource: KubeResource;
  target: KubeObject;
  /** The type is served only once a CRD applied in this run is Established. */
  definedByThisRun: boolean;
}

/** What one object's apply tells the others. */
interface RunState {
  warnings: string[];
  /** A dry run creates no namespace, so objects inside one it would create cannot be checked. */
  namespacesCreatedInDryRun: Set<string>;
}

const CRD_TYPE = "customresourcedefinitions.apiextensions.k8s.io";

/**
 * Applies exported objects to the destination in priority order (apply-order.ts) with
 * server-side apply under the field manager "kubeferry". Every object gets a status; one
 * refused object does not stop the others unless failFast is set. The existing-object policy
 * "fail" stops the run with a ConflictError naming the object.
 */
export async function applyResources(
  client: ClusterClient,
  objects: readonly KubeObject[],
  options: ApplyOptions,
): Promise<ApplyReport> {
  const statuses: ObjectStatus[] = [];
  const run: RunState = { warnings: [], namespacesCreatedInDryRun: new Set() };
  const planned = await plan(client, objects, options.transforms, statuses);
  // Planning reports only failures (types the destination does not serve, modifiers that fail).
  let stopped = options.failFast && statuses.length > 0;
  const fail = (status: ObjectStatus) => {
    statuses.push(status);
    if (options.failFast) stopped = true;
  };

  const unestablished = new Map<string, string>();
  for (const tier of applyTiers(planned.map((item) => groupResource(item.resource)))) {
    const items = planned.filter((item) => tier.includes(groupResource(item.resource)));
    await mapBounded(items, options.parallelism ?? DEFAULT_PARALLELISM, async (item) => {
      if (stopped) {
        statuses.push({
          ...objectRef(item.target),
          status: "Skipped",
          reason: "not attempted: the run stopped at the first failure (failFast)",
        });
        return;
      }
      const crdProblem = unestablished.get(`${item.resource.resource}.${item.resource.group}`);
      if (crdProblem !== undefined) {
        fail({ ...objectRef(item.target), status: "Failed", reason: crdProblem });
        return;
      }
      const status = await applyOne(client, item, options, run);
      if (status.status === "Failed") fail(status);
      else statuses.push(status);
    });
    if (tier.includes(CRD_TYPE) && !options.dryRun) {
      await waitForCrds(client, items, statuses, unestablished, options.crdWait ?? defaultWaitOptions);
      if (options.failFast && unestablished.size > 0) stopped = true;
    }
  }
  return { status: runStatus(statuses, stopped), objects: statuses, warnings: run.warnings };
}

/** Resolves each object's REST resource on the destination and transforms it; failures are reported. */
async function plan(
  client: ClusterClient,
  objects: readonly KubeObject[],
  transforms: TransformOptions,
  statuses: ObjectStatus[],
): Promise<Planned[]> {
  const served = new ResourceMapper(await discoverResources(client));
  const fromCrds = new ResourceMapper([]);
  for (const object of objects) {
    if (object.kind === "CustomResourceDefinition" && object.apiVersion === "apiextensions.k8s.io/v1") {
      fromCrds.addCrd(object);
    }
  }
  const planned: Planned[] = [];
  for (const source of objects) {
    const servedResource = served.resourceFor(source.apiVersion, source.kind);
    const resource = servedResource ?? fromCrds.resourceFor(source.apiVersion, source.kind);
    if (!resource) {
      statuses.push({
        ...objectRef(source),
        status: "Failed",
        reason: `cluster ${client.name} serves no ${source.apiVersion} ${source.kind}: install its CRD or operator on the destination, or exclude the type`,
      });
      continue;
    }
    try {
      const target = transformObject(source, groupResource(resource), transforms);
      planned.push({ resource, target, definedByThisRun: servedResource === undefined });
    } catch (error) {
      statuses.push({ ...objectRef(source), status: "Failed", reason: (error as Error).message });
    }
  }
  return planned;
}

async function applyOne(
  client: ClusterClient,
  item: Planned,
  options: ApplyOptions,
  run: RunState,
): Promise<ObjectStatus> {
  const { target, resource } = item;
  const ref = objectRef(target);
  const path = resourcePath(resource, target.metadata.namespace, target.metadata.name);
  if (options.dryRun && item.definedByThisRun) {
    return {
      ...ref,
      status: "WouldCreate",
      reason: "its CustomResourceDefinition is created by this run, so the dry run cannot check it",
    };
  }
  if (options.dryRun && run.namespacesCreatedInDryRun.has(target.metadata.namespace ?? "")) {
    return {
      ...ref,
      status: "WouldCreate",
      reason: "its namespace is created by this run, so the dry run cannot check it",
    };
  }
  const policy = existingPolicyFor(target, options.existingResources);
  try {
    // A run under "update" needs no read: server-side apply creates or converges in one call.
    const read = options.existingResources !== "update" || options.dryRun;
    const existing = read ? await readIfPresent(client, path) : undefined;
    if (existing && policy === "skip") {
      return { ...ref, status: "Skipped", reason: "exists on the destination (existingResources: skip)" };
    }
    if (existing && policy === "fail") {
      throw new ConflictError(
        `${describeObject(target)} already exists on cluster ${client.name} and existingResources is "fail": delete it there, or rerun with "skip" or "update"`,
      );
    }
    let applied: { status: number; body: KubeObject };
    try {
      applied = await serverSideApply(client, path, target, options.dryRun);
    } catch (error) {
      if (!isNodePortRefusal(error)) throw error;
      const ports = requestedNodePorts(target).join(", ");
      run.warnings.push(
        `${describeObject(target)}: node port ${ports} is taken or out of range on cluster ${client.name}; the destination assigned another`,
      );
      applied = await serverSideApply(client, path, withoutNodePorts(target), options.dryRun);
    }
    if (options.dryRun) {
      if (!existing) {
        if (target.kind === "Namespace") run.namespacesCreatedInDryRun.add(target.metadata.name);
        return { ...ref, status: "WouldCreate" };
      }
      return { ...ref, status: sameObject(existing, applied.body) ? "Unchanged" : "WouldUpdate" };
    }
    if (applied.status === 201) return { ...ref, status: "Created" };
    // An apply that changes nothing does not write, so the resourceVersion stays.
    const unchanged = existing?.metadata.resourceVersion === applied.body.metadata.resourceVersion;
    return { ...ref, status: unchanged ? "Unchanged" : "Updated" };
  } catch (error) {
    if (error instanceof ConflictError) throw error;
    return { ...ref, status: "Failed", reason: (error as Error).message };
  }
}

async function serverSideApply(
  client: ClusterClient,
  path: string,
  object: KubeObject,
  dryRun: boolean,
): Promise<{ status: number; body: KubeObject }> {
  return client.request<KubeObject>({
    method: "PATCH",
    path,
    // force: the destination's copy converges to the source even where another manager
    // (kubectl, a previous tool) set a field; that is what existingResources "update" means.
    query: { fieldManager: FIELD_MANAGER, force: true, dryRun: dryRun ? "All" : undefined },
    contentType: "application/apply-patch+yaml",
    body: object,
  });
}

async function readIfPresent(client: ClusterClient, path: string): Promise<KubeObject | undefined> {
  try {
    return (await client.request<KubeObject>({ method: "GET", path })).body;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** Equal apart from bookkeeping a no-op apply may still touch (field ownership). */
function sameObject(before: KubeObject, after: KubeObject): boolean {
  const strip = ({ metadata: { managedFields: _managed, ...metadata }, ...rest }: KubeObject) => ({
    ...rest,
    metadata,
  });
  return isDeepStrictEqual(strip(before), strip(after));
}

async function waitForCrds(
  client: ClusterClient,
  items: Planned[],
  statuses: ObjectStatus[],
  unestablished: Map<string, string>,
  wait: WaitOptions,
): Promise<void> {
  for (const item of items) {
    if (groupResource(item.resource) !== CRD_TYPE) continue;
    const status = statuses.find(
      (entry) => entry.kind === "CustomResourceDefinition" && entry.name === item.target.metadata.name,
    );
    if (status?.status === "Failed" || status?.status === "Skipped") continue;
    const problem = await waitForCrdEstablished(client, item.target.metadata.name, wait);
    if (problem === undefined) continue;
    const spec = item.target.spec as { group?: string; names?: { plural?: string } };
    unestablished.set(`${spec.names?.plural}.${spec.group}`, problem);
    if (status) Object.assign(status, { status: "Failed", reason: problem });
  }
}
