import { isRecord, type KubeObject } from "../objects.ts";

/** Source namespace → destination namespace; namespaces not listed keep their name. */
export type NamespaceMapping = Readonly<Record<string, string>>;

export function mapNamespace(mapping: NamespaceMapping, namespace: string): string {
  return mapping[namespace] ?? namespace;
}

/**
 * Moves an object into its destination namespace: the object's own namespace, a Namespace
 * object's name, and the namespaces of ServiceAccount subjects in (Cluster)RoleBindings, which
 * would otherwise keep granting access to accounts in the source namespace.
 */
export function applyNamespaceMapping(mapping: NamespaceMapping, object: KubeObject): KubeObject {
  let result = object;
  const { namespace } = object.metadata;
  if (namespace !== undefined) {
    result = { ...result, metadata: { ...result.metadata, namespace: mapNamespace(mapping, namespace) } };
  }
  if (object.kind === "Namespace" && object.apiVersion === "v1") {
    result = {
      ...result,
      metadata: { ...result.metadata, name: mapNamespace(mapping, object.metadata.name) },
    };
  }
  const isBinding = object.kind === "RoleBinding" || object.kind === "ClusterRoleBinding";
  if (
    isBinding &&
    object.apiVersion.startsWith("rbac.authorization.k8s.io/") &&
    Array.isArray(object.subjects)
  ) {
    const subjects = object.subjects.map((subject: unknown) =>
      isRecord(subject) && typeof subject.namespace === "string"
        ? { ...subject, namespace: mapNamespace(mapping, subject.namespace) }
        : subject,
    );
    result = { ...result, subjects };
  }
  return result;
}
