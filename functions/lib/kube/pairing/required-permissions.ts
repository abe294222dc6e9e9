/** One permission a run needs, checked with a SelfSubjectAccessReview (cluster-wide). */
export interface Permission {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  /** Which part of a run needs it, for the error message. */
  why: string;
}

const read = (group: string, resource: string, why: string): Permission[] =>
  ["get", "list"].map((verb) => ({ verb, group, resource, why }));

/** Both sides keep the data path in a namespace of kubeferry's, created when absent. */
const dataMoverNamespace: Permission = {
  verb: "create",
  group: "",
  resource: "namespaces",
  why: "the data-mover namespace",
};

/** Both sides move bytes through short-lived helper pods driven by exec. */
const helperPodPermissions = (use: "reading" | "writing"): Permission[] => [
  { verb: "create", group: "", resource: "pods", why: "helper pods" },
  { verb: "delete", group: "", resource: "pods", why: "cleanup of helper pods" },
  // API servers before 1.35 authorize a WebSocket exec as `get`, 1.35 and later as `create`
  // (kubernetes PR #134577): a role that works on both needs both.
  ...["get", "create"].map(
    (verb): Permission => ({
      verb,
      group: "",
      resource: "pods",
      subresource: "exec",
      why: `${use} volumes through helper pods`,
    }),
  ),
];

/**
 * The source is read (export), snapshotted and read through helper pods. Export lists every
 * type, which no single review can ask; these stand for the common ones and for the types the
 * view role leaves out (Secrets).
 */
export const SOURCE_PERMISSIONS: readonly Permission[] = [
  ...read("", "namespaces", "export"),
  ...read("", "configmaps", "export"),
  ...read("", "secrets", "export"),
  ...read("", "services", "export"),
  ...read("apps", "statefulsets", "export"),
  ...read("apps", "deployments", "export"),
  ...read("", "persistentvolumeclaims", "export and snapshots"),
  {
    verb: "list",
    group: "apiextensions.k8s.io",
    resource: "customresourcedefinitions",
    why: "export of custom resources",
  },
  { verb: "create", group: "snapshot.storage.k8s.io", resource: "volumesnapshots", why: "volume snapshots" },
  {
    verb: "delete",
    group: "snapshot.storage.k8s.io",
    resource: "volumesnapshots",
    why: "cleanup of snapshots",
  },
  ...["create", "delete"].map(
    (verb): Permission => ({
      verb,
      group: "snapshot.storage.k8s.io",
      resource: "volumesnapshotcontents",
      why: "binding a snapshot in the data-mover namespace",
    }),
  ),
  dataMoverNamespace,
  { verb: "create", group: "", resource: "persistentvolumeclaims", why: "temporary claims from snapshots" },
  { verb: "delete", group: "", resource: "persistentvolumeclaims", why: "cleanup of temporary claims" },
  ...helperPodPermissions("reading"),
];

/** The destination is written with server-side apply (patch) and restored through helper pods. */
export const DESTINATION_PERMISSIONS: readonly Permission[] = [
  ...["namespaces", "serviceaccounts", "configmaps", "secrets", "services", "persistentvolumeclaims"].map(
    (resource): Permission => ({ verb: "patch", group: "", resource, why: "apply" }),
  ),
  ...["deployments", "statefulsets"].map(
    (resource): Permission => ({ verb: "patch", group: "apps", resource, why: "apply" }),
  ),
  { verb: "patch", group: "rbac.authorization.k8s.io", resource: "roles", why: "apply" },
  { verb: "patch", group: "rbac.authorization.k8s.io", resource: "rolebindings", why: "apply" },
  {
    verb: "patch",
    group: "apiextensions.k8s.io",
    resource: "customresourcedefinitions",
    why: "apply of CRDs",
  },
  { verb: "create", group: "", resource: "persistentvolumes", why: "binding restored volumes" },
  { verb: "delete", group: "", resource: "persistentvolumes", why: "cleanup of temporary volumes" },
  { verb: "list", group: "", resource: "nodes", why: "placing new zonal volumes in the source's zone" },
  dataMoverNamespace,
  ...helperPodPermissions("writing"),
];

export function describePermission(permission: Permission): string {
  const resource = permission.group ? `${permission.resource}.${permission.group}` : permission.resource;
  return `${permission.verb} ${resource}${permission.subresource ? `/${permission.subresource}` : ""}`;
}
