import { SnapshotTimeout, ValidationError } from "../errors.ts";
import type { ClusterClient } from "../kube/client/cluster-client.ts";
import { isNotFound } from "../kube/client/kube-api-error.ts";
import {
  type Clock,
  createOrGet,
  getObject,
  listObjects,
  mergePatch,
  paths,
  pollUntil,
  recentWarnings,
} from "./kube-calls.ts";
import { runLabels, temporaryName } from "./names.ts";
import { checkSnapshotSources, type SnapshotCut } from "./snapshots.ts";

/**
 * Volume group snapshots (groupsnapshot.storage.k8s.io/v1): the PVCs of one namespace on one CSI
 * driver cut at one instant, so an app's data and WAL volumes are crash-consistent with each
 * other. A VolumeGroupSnapshot selects its PVCs by label only, so for the cut each selected PVC
 * carries GROUP_LABEL (the group's name) and loses it again right after; Cleanup removes any the
 * run left. The PVCs get no run label: Cleanup deletes what carries one.
 */
export const GROUP_LABEL = "kubeferry.io/group-snapshot";

const DEFAULT_GROUP_CLASS_ANNOTATION = "groupsnapshot.storage.kubernetes.io/is-default-class";

/** auto: group where the driver can; required: refuse a run where it cannot; off: one snapshot per PVC. */
export type GroupSnapshotMode = "auto" | "required" | "off";

interface GroupSnapshotClass {
  metadata: { name: string; annotations?: Record<string, string> };
  driver: string;
}

interface GroupSnapshot {
  metadata: { name: string; uid?: string };
  status?: { readyToUse?: boolean; creationTime?: string; error?: { message?: string } };
}

interface MemberSnapshot {
  metadata: { name: string; ownerReferences?: Array<{ kind: string; uid: string }> };
  spec?: { source?: { persistentVolumeClaimName?: string } };
}

/** PVCs of one namespace snapshotted through one VolumeSnapshotClass: the unit a group can cover. */
export interface SnapshotSet {
  namespace: string;
  snapshotClass: string;
  pvcs: string[];
  /** Set when the set is cut as one VolumeGroupSnapshot of this class. */
  groupSnapshotClass?: string;
}

/**
 * Decides which snapshot sets are cut as groups. auto groups a set of two or more PVCs whose
 * driver has a VolumeGroupSnapshotClass (its default one when it has several, as for snapshot
 * classes); a single PVC is one snapshot either way. required groups every set and refuses a run
 * where a namespace's volumes cannot be one group (no group class, two drivers, a volume read live),
 * naming them, before any hook runs.
 */
export async function planSnapshotGroups(
  client: ClusterClient,
  sets: readonly SnapshotSet[],
  mode: GroupSnapshotMode,
  liveVolumes: ReadonlyArray<{ namespace: string; pvc: string }>,
): Promise<SnapshotSet[]> {
  if (mode === "off") return [...sets];
  if (mode === "required") refuseUngroupable(client, sets, liveVolumes);
  const classes = await groupSnapshotClasses(client);
  const planned: SnapshotSet[] = [];
  for (const set of sets) {
    if (mode === "auto" && set.pvcs.length < 2) {
      planned.push(set);
      continue;
    }
    const snapshotClass = await getObject<{ driver?: string }>(
      client,
      paths.snapshotClass(set.snapshotClass),
    );
    const driver = snapshotClass?.driver;
    const candidates = classes.filter((candidate) => candidate.driver === driver);
    const chosen =
      candidates.find((c) => c.metadata.annotations?.[DEFAULT_GROUP_CLASS_ANNOTATION] === "true") ??
      candidates[0];
    if (chosen === undefined && mode === "required") {
      throw new ValidationError(
        `cluster ${client.name}: groupSnapshots required, but driver ${driver ?? "(unknown)"} of PVCs ` +
          `${set.pvcs.map((pvc) => `${set.namespace}/${pvc}`).join(", ")} has no VolumeGroupSnapshotClass; ` +
          "create one for that driver, or use groupSnapshots auto",
      );
    }
    planned.push(chosen ? { ...set, groupSnapshotClass: chosen.metadata.name } : set);
  }
  return planned;
}

function refuseUngroupable(
  client: ClusterClient,
  sets: readonly SnapshotSet[],
  liveVolumes: ReadonlyArray<{ namespace: string; pvc: string }>,
): void {
  const problems: string[] = [];
  for (const { namespace, pvc } of liveVolumes) {
    problems.push(`PVC ${namespace}/${pvc} has no snapshot support (it would be read live)`);
  }
  const perNamespace = new Map<string, SnapshotSet[]>();
  for (const set of sets) perNamespace.set(set.namespace, [...(perNamespace.get(set.namespace) ?? []), set]);
  for (const [namespace, inNamespace] of perNamespace) {
    if (inNamespace.length < 2) continue;
    problems.push(
      `namespace ${namespace}'s volumes use ${inNamespace.length} snapshot classes (${inNamespace
        .map((set) => `${set.snapshotClass}: ${set.pvcs.join(", ")}`)
        .join("; ")}), and one group covers one driver`,
    );
  }
  if (problems.length === 0) return;
  throw new ValidationError(
    `cluster ${client.name}: groupSnapshots required, but ${problems.join("; ")}; ` +
      "select the volumes of one driver, or use groupSnapshots auto",
  );
}

/**
 * Cuts one VolumeGroupSnapshot of the set's PVCs and waits until it is cut, then names each PVC's
 * member VolumeSnapshot (the snapshot controller creates them, owned by the group). Idempotent per
 * run: a retry finds the group of the same name. The PVCs lose the group label however it ends.
 */
export async function cutGroupSnapshot(
  deps: { client: ClusterClient; clock: Clock },
  input: { runId: string; set: SnapshotSet; timeoutSeconds?: number },
): Promise<Array<SnapshotCut & { group: string }>> {
  const { client, clock } = deps;
  const { namespace, pvcs, groupSnapshotClass } = input.set;
  await checkSnapshotSources(client, namespace, pvcs, input.set.snapshotClass);
  const name = temporaryName("group", input.runId, namespace, groupSnapshotClass ?? "");
  try {
    for (const pvc of pvcs) await labelClaim(client, namespace, pvc, name);
    await createOrGet(client, paths.groupSnapshots(namespace), {
      apiVersion: "groupsnapshot.storage.k8s.io/v1",
      kind: "VolumeGroupSnapshot",
      metadata: { name, namespace, labels: runLabels(input.runId) },
      spec: {
        volumeGroupSnapshotClassName: groupSnapshotClass,
        source: { selector: { matchLabels: { [GROUP_LABEL]: name } } },
      },
    });
    const group = await waitForGroupCut(client, clock, namespace, name, (input.timeoutSeconds ?? 600) * 1000);
    return await memberSnapshots(client, clock, namespace, group, pvcs);
  } finally {
    for (const pvc of pvcs) await labelClaim(client, namespace, pvc, null);
  }
}

async function labelClaim(client: ClusterClient, namespace: string, pvc: string, group: string | null) {
  await mergePatch(client, paths.pvc(namespace, pvc), { metadata: { labels: { [GROUP_LABEL]: group } } });
}

async function waitForGroupCut(
  client: ClusterClient,
  clock: Clock,
  namespace: string,
  name: string,
  timeoutMs: number,
): Promise<GroupSnapshot> {
  let last: GroupSnapshot | undefined;
  return pollUntil(
    clock,
    timeoutMs,
    async () => {
      last = await getObject<GroupSnapshot>(client, paths.groupSnapshot(namespace, name));
      return last?.status?.readyToUse === true || last?.status?.creationTime ? last : undefined;
    },
    async () =>
      new SnapshotTimeout(
        `cluster ${client.name}: VolumeGroupSnapshot ${namespace}/${name} was not taken after ` +
          `${Math.round(timeoutMs / 1000)}s; last error: ${last?.status?.error?.message ?? "none reported"}; ` +
          `events: ${await recentWarnings(client, namespace, name)}. Check the CSI driver's group ` +
          "snapshot support and the snapshot controller, or use groupSnapshots off",
      ),
    500,
  );
}

/** The group's member snapshots by PVC; the controller may create them a moment after the cut. */
async function memberSnapshots(
  client: ClusterClient,
  clock: Clock,
  namespace: string,
  group: GroupSnapshot,
  pvcs: readonly string[],
): Promise<Array<SnapshotCut & { group: string }>> {
  const byPvc = new Map<string, string>();
  return pollUntil(
    clock,
    120_000,
    async () => {
      const members = await groupMemberSnapshots(client, [
        { metadata: { namespace, uid: group.metadata.uid } },
      ]);
      for (const member of members) if (member.pvc) byPvc.set(member.pvc, member.name);
      if (!pvcs.every((pvc) => byPvc.has(pvc))) return undefined;
      return pvcs.map((pvc) => ({
        namespace,
        pvc,
        snapshot: byPvc.get(pvc) as string,
        group: group.metadata.name,
      }));
    },
    async () =>
      new SnapshotTimeout(
        `cluster ${client.name}: VolumeGroupSnapshot ${namespace}/${group.metadata.name} is cut but has no ` +
          `member snapshot of PVC ${pvcs
            .filter((pvc) => !byPvc.has(pvc))
            .map((pvc) => `${namespace}/${pvc}`)
            .join(", ")}; check the snapshot controller`,
      ),
    500,
  );
}

/**
 * After a run, wherever it stopped: PVCs still labelled for one of its groups (a step that died
 * between labelling and unlabelling) lose the label. A group's name follows from the run, the
 * namespace and the group class, so the label is recognised without the group object.
 */
export async function unlabelGroupMembers(client: ClusterClient, runId: string): Promise<string[]> {
  const labelled = await listObjects<{
    metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
  }>(client, paths.allPvcs(), GROUP_LABEL);
  if (labelled.length === 0) return [];
  const classes = await groupSnapshotClasses(client);
  const released: string[] = [];
  for (const claim of labelled) {
    const namespace = claim.metadata?.namespace ?? "";
    const name = claim.metadata?.name ?? "";
    const group = claim.metadata?.labels?.[GROUP_LABEL];
    const ours = classes.some((c) => temporaryName("group", runId, namespace, c.metadata.name) === group);
    if (!ours) continue;
    await labelClaim(client, namespace, name, null);
    released.push(`${namespace}/${name}`);
  }
  return released;
}

/** The member snapshots of the groups, by owner: they carry no label of their own. */
export async function groupMemberSnapshots(
  client: ClusterClient,
  groups: ReadonlyArray<{ metadata?: { name?: string; namespace?: string; uid?: string } }>,
): Promise<Array<{ namespace: string; name: string; pvc?: string }>> {
  const members: Array<{ namespace: string; name: string; pvc?: string }> = [];
  for (const namespace of new Set(groups.map((group) => group.metadata?.namespace ?? ""))) {
    const uids = new Set(
      groups.filter((group) => group.metadata?.namespace === namespace).map((group) => group.metadata?.uid),
    );
    for (const snapshot of await listObjects<MemberSnapshot>(client, paths.snapshots(namespace))) {
      if (
        snapshot.metadata.ownerReferences?.some(
          (owner) => owner.kind === "VolumeGroupSnapshot" && uids.has(owner.uid),
        )
      )
        members.push({
          namespace,
          name: snapshot.metadata.name,
          ...(snapshot.spec?.source?.persistentVolumeClaimName
            ? { pvc: snapshot.spec.source.persistentVolumeClaimName }
            : {}),
        });
    }
  }
  return members;
}

/** A cluster without the group snapshot CRDs (most before 1.36) has no group classes. */
async function groupSnapshotClasses(client: ClusterClient): Promise<GroupSnapshotClass[]> {
  return listIfServed<GroupSnapshotClass>(client, paths.groupSnapshotClasses());
}

/** The VolumeGroupSnapshots matching a label selector, in every namespace; none where the API is not served. */
export async function listGroupSnapshots(
  client: ClusterClient,
  selector: string,
): Promise<Array<{ metadata?: { name?: string; namespace?: string; uid?: string } }>> {
  return listIfServed(client, paths.allGroupSnapshots(), selector);
}

async function listIfServed<T>(client: ClusterClient, path: string, selector?: string): Promise<T[]> {
  try {
    return await listObjects<T>(client, path, selector);
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
}
