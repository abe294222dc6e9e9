/**
 * One permission a run needs, checked with a SelfSubjectAccessReview. Where it is needed decides
 * the review's namespace: a role bound only in kubeferry's data-mover namespace, or only in the
 * namespaces a run moves, is enough, and a cluster-wide review would refuse it.
 */
export interface Permission {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  /** Which part of a run needs it, for the error message. */
  why: string;
  /**
   * "data-mover": in the pair's data-mover namespace; "run": in each namespace the run moves
   * (not reviewed when the check has no run, as at `pair create`: an identity bound only in the
   * application namespaces must be able to create its pair); absent: cluster-wide.
   */
  where?: "data-mover" | "run";
}

const read = (group: string, resource: string, why: string, where?: Permission["where"]): Permission[] =>
  ["get", "list"].map((verb) => ({ verb, group, resource, why, ...(where ? { where } : {}) }));

/** Both sides keep the data path in a namespace of kubeferry's, created when absent. */
const dataMoverNamespace: Permission = {
  verb: "create",
  group: "",
  resource: "namespaces",
  why: "the data-mover namespace",
};

// API servers before 1.35 authorize a WebSocket exec as `get`, 1.35 and later as `create`
// (kubernetes PR #134577): a role that works on both needs both.
const exec = (why: string, where: Permission["where"]): Permission[] =>
  ["get", "create"].map((verb) => ({ verb, group: "", resource: "pods", subresource: "exec", why, where }));

/**
 * Both sides move bytes through short-lived helper pods on temporary Block PVCs in the data-mover
 * namespace, driven by exec, and watch them with get.
 */
const dataMoverPermissions = (use: "reading" | "writing"): Permission[] => [
  dataMoverNamespace,
  ...["get", "create", "delete"].flatMap((verb): Permission[] => [
    { verb, group: "", resource: "pods", why: "helper pods", where: "data-mover" },
    { verb, group: "", resource: "persistentvolumeclaims", why: "temporary claims", where: "data-mover" },
  ]),
  ...exec(`${use} volumes through helper pods`, "data-mover"),
  {
    verb: "list",
    group: "",
    resource: "events",
    why: "why a helper pod or claim is stuck",
    where: "data-mover",
  },
  ...read("storage.k8s.io", "storageclasses", "the volumes' classes"),
  { verb: "get", group: "", resource: "persistentvolumes", why: "the volumes' drivers and zones" },
];

/**
 * The source is read (export), snapshotted and read through helper pods. Export lists every
 * type, which no single review can ask; these stand for the common ones and for the types the
 * view role leaves out (Secrets).
 */
export const SOURCE_PERMISSIONS: readonly Permission[] = [
  ...read("", "namespaces", "export"),
  ...read("", "configmaps", "export", "run"),
  ...read("", "secrets", "export", "run"),
  ...read("", "services", "export", "run"),
  ...read("apps", "statefulsets", "export", "run"),
  ...read("apps", "deployments", "export", "run"),
  ...read("", "persistentvolumeclaims", "export and snapshots", "run"),
  {
    verb: "list",
    group: "apiextensions.k8s.io",
    resource: "customresourcedefinitions",
    why: "export of custom resources",
  },
  ...["get", "create", "delete"].flatMap((verb): Permission[] => [
    {
      verb,
      group: "snapshot.storage.k8s.io",
      resource: "volumesnapshots",
      why: "volume snapshots",
      where: "run",
    },
    {
      verb,
      group: "snapshot.storage.k8s.io",
      resource: "volumesnapshots",
      why: "the snapshots' copies read from",
      where: "data-mover",
    },
    {
      verb,
      group: "snapshot.storage.k8s.io",
      resource: "volumesnapshotcontents",
      why: "binding a snapshot in the data-mover namespace",
    },
  ]),
  ...read("snapshot.storage.k8s.io", "volumesnapshotclasses", "snapshot classes"),
  // Group snapshots select their PVCs by a label set for the cut (group-snapshots.ts).
  ...["get", "create", "delete"].map(
    (verb): Permission => ({
      verb,
      group: "groupsnapshot.storage.k8s.io",
      resource: "volumegroupsnapshots",
      why: "volume group snapshots",
      where: "run",
    }),
  ),
  {
    verb: "patch",
    group: "",
    resource: "persistentvolumeclaims",
    why: "group snapshot labels",
    where: "run",
  },
  // Hooks run their commands in the application's pods.
  { verb: "list", group: "", resource: "pods", why: "hooks", where: "run" },
  ...exec("hooks", "run"),
  ...["patch", "delete"].map(
    (verb): Permission => ({
      verb,
      group: "",
      resource: "persistentvolumes",
      why: "cleanup of temporary volumes",
    }),
  ),
  ...dataMoverPermissions("reading"),
];

/** The destination is written with server-side apply (patch) and restored through helper pods. */
export const DESTINATION_PERMISSIONS: readonly Permission[] = [
  { verb: "patch", group: "", resource: "namespaces", why: "apply" },
  ...["serviceaccounts", "configmaps", "secrets", "services", "persistentvolumeclaims"].map(
    (resource): Permission => ({ verb: "patch", group: "", resource, why: "apply", where: "run" }),
  ),
  ...["deployments", "statefulsets"].map(
    (resource): Permission => ({ verb: "patch", group: "apps", resource, why: "apply", where: "run" }),
  ),
  { verb: "patch", group: "rbac.authorization.k8s.io", resource: "roles", why: "apply", where: "run" },
  { verb: "patch", group: "rbac.authorization.k8s.io", resource: "rolebindings", why: "apply", where: "run" },
  {
    verb: "patch",
    group: "apiextensions.k8s.io",
    resource: "customresourcedefinitions",
    why: "apply of CRDs",
  },
  // The final PVC is created bound to the volume's PV, and a standby's PVC is annotated and grown.
  ...["get", "create"].map(
    (verb): Permission => ({
      verb,
      group: "",
      resource: "persistentvolumeclaims",
      why: "final claims",
      where: "run",
    }),
  ),
  {
    verb: "list",
    group: "",
    resource: "pods",
    why: "the standby guard (no pod mounts a standby)",
    where: "run",
  },
  ...["create", "patch", "delete"].map(
    (verb): Permission => ({
      verb,
      group: "",
      resource: "persistentvolumes",
      why: "binding restored volumes",
    }),
  ),
  { verb: "list", group: "", resource: "nodes", why: "placing new zonal volumes in the source's zone" },
  ...dataMoverPermissions("writing"),
];

/** A review to ask: a permission, in one namespace or (undefined) cluster-wide. */
export interface PermissionReview {
  permission: Permission;
  namespace?: string;
}

export interface PermissionNamespaces {
  dataMover: string;
  /** The namespaces a run moves, on this side; undefined when no run is being checked. */
  run?: readonly string[];
}

/** The reviews that prove a role holds the permissions where a run will use them. */
export function permissionReviews(
  permissions: readonly Permission[],
  namespaces: PermissionNamespaces,
): PermissionReview[] {
  return permissions.flatMap((permission): PermissionReview[] => {
    if (permission.where === "data-mover") return [{ permission, namespace: namespaces.dataMover }];
    if (permission.where === "run")
      return (namespaces.run ?? []).map((namespace) => ({ permission, namespace }));
    return [{ permission }];
  });
}

export function describePermission({ permission, namespace }: PermissionReview): string {
  const resource = permission.group ? `${permission.resource}.${permission.group}` : permission.resource;
  const subresource = permission.subresource ? `/${permission.subresource}` : "";
  return `${permission.verb} ${resource}${subresource} ${namespace ? `in namespace ${namespace}` : "cluster-wide"}`;
}
