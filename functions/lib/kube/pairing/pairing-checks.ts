import { mapBounded } from "../../bounded-map.ts";
import { probeHelperImage } from "../../volumes/helper-image-probe.ts";
import { systemClock } from "../../volumes/kube-calls.ts";
import { KubeExec } from "../../volumes/pod-exec.ts";
import { claimStorageClass } from "../claim-storage-class.ts";
import type { ClusterClient } from "../client/cluster-client.ts";
import { KubeApiError } from "../client/kube-api-error.ts";
import type { StorageClassMapping } from "../transform/storage-class-mapping.ts";
import {
  DESTINATION_PERMISSIONS,
  describePermission,
  type Permission,
  type PermissionNamespaces,
  permissionReviews,
  SOURCE_PERMISSIONS,
} from "./required-permissions.ts";

export interface CheckResult {
  /** e.g. "source-reachable"; a PairingError names the first failed check. */
  name: string;
  passed: boolean;
  /** What was found, and for a failure what to do. */
  reason: string;
}

/** kubeferry reads resources through aggregated discovery, GA in 1.30. */
export const MINIMUM_MINOR_VERSION = 30;

type Role = "source" | "destination";

export interface CheckScope {
  /**
   * The namespaces a run moves: only their PVCs need a mapped class (a class nobody maps in
   * another namespace must not fail this run), and the permissions a run uses in them are
   * reviewed there. Without it, every PVC of the source is checked and those permissions are
   * reviewed cluster-wide.
   */
  namespaces?: readonly string[];
}

/** What the checks need to know of the pair besides its clusters. */
export interface PairContext {
  name: string;
  /** A custom helper image, probed on both clusters (the default busybox is known to work). */
  helperImage?: string;
  /** The data-mover namespace, the same name on both clusters. */
  dataMover: string;
  /** A source namespace's name on the destination. */
  destinationOf(namespace: string): string;
}

/**
 * Runs every pairing check (ARCHITECTURE §2) and reports each. Checks that depend on a failed
 * one (nothing can be asked of an unreachable server) fail with a reason pointing at it, so the
 * first failure in the list is the one to fix.
 */
export async function runPairingChecks(
  source: ClusterClient,
  destination: ClusterClient,
  storageClassMapping: StorageClassMapping,
  paired: PairContext,
  scope: CheckScope = {},
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const usable: Record<Role, boolean> = { source: false, destination: false };
  for (const [role, client] of [
    ["source", source],
    ["destination", destination],
  ] as const) {
    const access = await accessChecks(role, client);
    results.push(...access);
    usable[role] = access.every((check) => check.passed);
  }
  const blocked = (name: string, roles: Role[]): CheckResult | undefined => {
    const broken = roles.filter((role) => !usable[role]);
    if (broken.length === 0) return undefined;
    return {
      name,
      passed: false,
      reason: `not checked: ${broken.join(" and ")} cannot be used (see the checks above)`,
    };
  };
  results.push(
    blocked("source-permissions", ["source"]) ??
      (await permissionCheck("source", source, SOURCE_PERMISSIONS, {
        dataMover: paired.dataMover,
        ...(scope.namespaces ? { run: scope.namespaces } : {}),
      })),
  );
  results.push(
    blocked("destination-permissions", ["destination"]) ??
      (await permissionCheck("destination", destination, DESTINATION_PERMISSIONS, {
        dataMover: paired.dataMover,
        ...(scope.namespaces ? { run: scope.namespaces.map(paired.destinationOf) } : {}),
      })),
  );
  results.push(
    blocked("distinct-clusters", ["source", "destination"]) ?? (await distinctClusters(source, destination)),
  );
  results.push(blocked("snapshot-api", ["source"]) ?? (await snapshotApi(source)));
  results.push(blocked("snapshot-class", ["source"]) ?? (await snapshotClass(source)));
  results.push(
    blocked("storage-class-mapping", ["source", "destination"]) ??
      (await storageClassesMapped(source, destination, storageClassMapping, scope.namespaces)),
  );
  if (paired.helperImage !== undefined) {
    for (const [role, client] of [
      ["source", source],
      ["destination", destination],
    ] as const) {
      results.push(
        blocked(`${role}-helper-image`, [role]) ??
          (await helperImageCheck(role, client, paired, paired.helperImage)),
      );
    }
  }
  return results;
}

/** Reachable, credentials accepted, version supported: without these nothing else can be asked. */
async function accessChecks(role: Role, client: ClusterClient): Promise<CheckResult[]> {
  let version: { major?: string; minor?: string; gitVersion?: string };
  try {
    version = (await client.request<typeof version>({ method: "GET", path: "/version" })).body;
  } catch (error) {
    if (!(error instanceof KubeApiError) || error.status === undefined) {
      return [{ name: `${role}-reachable`, passed: false, reason: failureReason(error, client) }];
    }
    if (error.status !== 401) return [{ name: `${role}-reachable`, passed: false, reason: error.message }];
    return [
      { name: `${role}-reachable`, passed: true, reason: `${client.server} answers` },
      {
        name: `${role}-credentials`,
        passed: false,
        reason: `cluster ${client.name} rejected the credentials (401): renew the token or kubeconfig in the cluster's secret`,
      },
    ];
  }
  const reachable = { name: `${role}-reachable`, passed: true, reason: `${client.server} answers` };
  const credentials = await credentialCheck(role, client);
  const minor = Number.parseInt(version.minor ?? "", 10);
  const supported = version.major === "1" && minor >= MINIMUM_MINOR_VERSION;
  const versionCheck = {
    name: `${role}-version`,
    passed: supported,
    reason: supported
      ? `Kubernetes ${version.gitVersion}`
      : `cluster ${client.name} runs Kubernetes ${version.gitVersion ?? "of unknown version"}; kubeferry needs 1.${MINIMUM_MINOR_VERSION} or later: upgrade the cluster`,
  };
  return [reachable, credentials, versionCheck];
}

/** /version may be public; a review proves the credentials authenticate. */
async function credentialCheck(role: Role, client: ClusterClient): Promise<CheckResult> {
  const name = `${role}-credentials`;
  try {
    const { body } = await client.request<{ status?: { userInfo?: { username?: string } } }>({
      method: "POST",
      path: "/apis/authentication.k8s.io/v1/selfsubjectreviews",
      body: { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" },
    });
    return {
      name,
      passed: true,
      reason: `authenticated as ${body.status?.userInfo?.username ?? "(unnamed)"}`,
    };
  } catch (error) {
    if (error instanceof KubeApiError && error.status === 401) {
      return {
        name,
        passed: false,
        reason: `cluster ${client.name} rejected the credentials (401): renew the token or kubeconfig in the cluster's secret`,
      };
    }
    return { name, passed: false, reason: failureReason(error, client) };
  }
}

async function permissionCheck(
  role: Role,
  client: ClusterClient,
  permissions: readonly Permission[],
  namespaces: PermissionNamespaces,
): Promise<CheckResult> {
  const name = `${role}-permissions`;
  const reviews = permissionReviews(permissions, namespaces);
  try {
    const answers = await mapBounded(reviews, 8, async (review) => {
      const { permission, namespace } = review;
      const { body } = await client.request<{ status?: { allowed?: boolean } }>({
        method: "POST",
        path: "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
        body: {
          apiVersion: "authorization.k8s.io/v1",
          kind: "SelfSubjectAccessReview",
          spec: {
            resourceAttributes: {
              verb: permission.verb,
              group: permission.group,
              resource: permission.resource,
              ...(permission.subresource ? { subresource: permission.subresource } : {}),
              ...(namespace ? { namespace } : {}),
            },
          },
        },
      });
      return { review, allowed: body.status?.allowed === true };
    });
    const missing = answers.filter((answer) => !answer.allowed);
    if (missing.length === 0) {
      const later =
        namespaces.run === undefined ? "; those in the namespaces a run moves are checked by each run" : "";
      return { name, passed: true, reason: `all ${reviews.length} permissions granted${later}` };
    }
    const list = missing
      .map(({ review }) => `${describePermission(review)} (${review.permission.why})`)
      .join(", ");
    return {
      name,
      passed: false,
      reason: `the identity used for cluster ${client.name} lacks: ${list}; grant them to it with a ClusterRole, or with Roles in the namespaces named`,
    };
  } catch (error) {
    return { name, passed: false, reason: failureReason(error, client) };
  }
}

async function helperImageCheck(
  role: Role,
  client: ClusterClient,
  paired: PairContext,
  image: string,
): Promise<CheckResult> {
  const name = `${role}-helper-image`;
  try {
    const problem = await probeHelperImage(
      { client, exec: new KubeExec(client.kubeConfig), clock: systemClock },
      { runId: `probe-${paired.name}`, namespace: paired.dataMover, helper: { image } },
    );
    return problem === undefined
      ? { name, passed: true, reason: `${image} runs the helper scripts` }
      : { name, passed: false, reason: problem };
  } catch (error) {
    return { name, passed: false, reason: failureReason(error, client) };
  }
}

async function kubeSystemUid(client: ClusterClient): Promise<string> {
  const { body } = await client.request<{ metadata?: { uid?: string } }>({
    method: "GET",
    path: "/api/v1/namespaces/kube-system",
  });
  return body.metadata?.uid ?? "";
}

async function distinctClusters(source: ClusterClient, destination: ClusterClient): Promise<CheckResult> {
  const name = "distinct-clusters";
  try {
    const [sourceUid, destinationUid] = await Promise.all([
      kubeSystemUid(source),
      kubeSystemUid(destination),
    ]);
    if (sourceUid !== destinationUid) return { name, passed: true, reason: "kube-system namespaces differ" };
    return {
      name,
      passed: false,
      reason: `${source.name} and ${destination.name} are the same cluster (kube-system UID ${sourceUid}): a migration onto itself would overwrite the source; pick another destination`,
    };
  } catch (error) {
    return { name, passed: false, reason: failureReason(error, source) };
  }
}

async function snapshotApi(source: ClusterClient): Promise<CheckResult> {
  const name = "snapshot-api";
  try {
    const { body } = await source.request<{ resources?: Array<{ name?: string }> }>({
      method: "GET",
      path: "/apis/snapshot.storage.k8s.io/v1",
    });
    if (body.resources?.some((resource) => resource.name === "volumesnapshots")) {
      return { name, passed: true, reason: "snapshot.storage.k8s.io/v1 VolumeSnapshots are served" };
    }
  } catch (error) {
    if (!(error instanceof KubeApiError && error.status === 404))
      return { name, passed: false, reason: failureReason(error, source) };
  }
  return {
    name,
    passed: false,
    reason: `cluster ${source.name} does not serve snapshot.storage.k8s.io/v1 VolumeSnapshots: install the CSI external-snapshotter CRDs and controller`,
  };
}

async function snapshotClass(source: ClusterClient): Promise<CheckResult> {
  const name = "snapshot-class";
  try {
    const { body } = await source.request<{
      items?: Array<{ metadata?: { name?: string }; driver?: string }>;
    }>({
      method: "GET",
      path: "/apis/snapshot.storage.k8s.io/v1/volumesnapshotclasses",
    });
    const classes = (body.items ?? []).map((item) => `${item.metadata?.name} (${item.driver})`);
    if (classes.length > 0)
      return { name, passed: true, reason: `VolumeSnapshotClasses: ${classes.join(", ")}` };
    return {
      name,
      passed: false,
      reason: `cluster ${source.name} has no VolumeSnapshotClass: create one for the CSI driver of the volumes to move`,
    };
  } catch (error) {
    return { name, passed: false, reason: failureReason(error, source) };
  }
}

async function storageClassesMapped(
  source: ClusterClient,
  destination: ClusterClient,
  mapping: StorageClassMapping,
  namespaces: readonly string[] | undefined,
): Promise<CheckResult> {
  const name = "storage-class-mapping";
  try {
    const claimPaths =
      namespaces === undefined
        ? ["/api/v1/persistentvolumeclaims"]
        : namespaces.map((namespace) => `/api/v1/namespaces/${namespace}/persistentvolumeclaims`);
    const [claimLists, classes] = await Promise.all([
      Promise.all(
        claimPaths.map((path) =>
          source.request<{
            items?: Array<{
              metadata?: { namespace?: string; name?: string; annotations?: Record<string, string> };
              spec?: { storageClassName?: string };
            }>;
          }>({ method: "GET", path }),
        ),
      ),
      destination.request<{ items?: Array<{ metadata?: { name?: string } }> }>({
        method: "GET",
        path: "/apis/storage.k8s.io/v1/storageclasses",
      }),
    ]);
    const available = new Set((classes.body.items ?? []).map((item) => item.metadata?.name));
    const inUse = new Map<string, string>();
    for (const claim of claimLists.flatMap((list) => list.body.items ?? [])) {
      const storageClass = claimStorageClass(claim);
      if (storageClass && !inUse.has(storageClass))
        inUse.set(storageClass, `${claim.metadata?.namespace}/${claim.metadata?.name}`);
    }
    const unmapped = [...inUse].filter(
      ([storageClass]) => !available.has(mapping[storageClass] ?? storageClass),
    );
    if (unmapped.length === 0) {
      return {
        name,
        passed: true,
        reason: `classes in use: ${[...inUse.keys()].map((c) => `${c} → ${mapping[c] ?? c}`).join(", ") || "none"}`,
      };
    }
    const problems = unmapped.map(
      ([storageClass, claim]) =>
        `"${storageClass}" (used by PVC ${claim}) → "${mapping[storageClass] ?? storageClass}"`,
    );
    return {
      name,
      passed: false,
      reason: `no such storage class on ${destination.name} for ${problems.join(", ")}; map each to one of: ${[...available].join(", ")}`,
    };
  } catch (error) {
    return { name, passed: false, reason: failureReason(error, source) };
  }
}

function failureReason(error: unknown, client: ClusterClient): string {
  return error instanceof Error ? error.message : `cluster ${client.name}: ${String(error)}`;
}
