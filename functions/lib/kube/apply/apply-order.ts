/**
 * The order in which objects are applied on the destination, one tier after another; objects
 * inside a tier are applied in parallel. Each entry exists because something later needs it
 * (as Velero's restore priorities). Types not listed follow "the rest", one tier per type in
 * alphabetical order, and admission webhooks come last of all.
 */
const PRIORITY_TIERS: ReadonlyArray<{ why: string; types: readonly string[] }> = [
  {
    why: "custom resources cannot be created before their definition is Established",
    types: ["customresourcedefinitions.apiextensions.k8s.io"],
  },
  { why: "every namespaced object needs its namespace", types: ["namespaces"] },
  { why: "pods and bindings refer to service accounts", types: ["serviceaccounts"] },
  {
    why: "bindings refer to roles",
    types: ["roles.rbac.authorization.k8s.io", "clusterroles.rbac.authorization.k8s.io"],
  },
  {
    why: "workloads need their permissions before they start",
    types: ["rolebindings.rbac.authorization.k8s.io", "clusterrolebindings.rbac.authorization.k8s.io"],
  },
  { why: "pods mount secrets and read them as environment", types: ["secrets"] },
  { why: "pods mount config maps and read them as environment", types: ["configmaps"] },
  { why: "limit ranges default the resources of pods created after them", types: ["limitranges"] },
  { why: "quotas must be in force before the objects they count", types: ["resourcequotas"] },
  { why: "claims bind to volumes", types: ["persistentvolumes"] },
  { why: "pods mount claims", types: ["persistentvolumeclaims"] },
  { why: "StatefulSets need their governing Service; pods read service environment", types: ["services"] },
  {
    why: "workloads, once their dependencies exist",
    types: [
      "deployments.apps",
      "statefulsets.apps",
      "daemonsets.apps",
      "replicasets.apps",
      "replicationcontrollers",
      "jobs.batch",
      "cronjobs.batch",
      "pods",
    ],
  },
];

/** Last: a webhook applied earlier could reject or mutate the objects of this very migration. */
const LAST_TYPES: readonly string[] = [
  "mutatingwebhookconfigurations.admissionregistration.k8s.io",
  "validatingwebhookconfigurations.admissionregistration.k8s.io",
];

/**
 * Groups types ("resource.group") into tiers in apply order. Only the given types appear;
 * empty tiers are dropped.
 */
export function applyTiers(types: Iterable<string>): string[][] {
  const present = new Set(types);
  const listed = new Set([...PRIORITY_TIERS.flatMap((tier) => tier.types), ...LAST_TYPES]);
  const tiers = [
    ...PRIORITY_TIERS.map((tier) => tier.types.filter((type) => present.has(type))),
    ...[...present]
      .filter((type) => !listed.has(type))
      .sort()
      .map((type) => [type]),
    LAST_TYPES.filter((type) => present.has(type)),
  ];
  return tiers.filter((tier) => tier.length > 0);
}
