import type { KubeObject, ObjectMeta } from "../objects.ts";

/** Metadata the source API server wrote; the destination writes its own. */
const SERVER_METADATA = [
  "uid",
  "resourceVersion",
  "generation",
  "creationTimestamp",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
  "managedFields",
  "selfLink",
  // Owner references hold source UIDs. On the destination they would point at nothing and the
  // garbage collector would delete the object; controllers re-adopt what they own.
  "ownerReferences",
] as const;

/** The API server sets this label on every namespace to the namespace's own name. */
const NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";

/** Drops server-populated metadata and the status, which the destination's controllers own. */
export function stripServerFields(object: KubeObject): KubeObject {
  const metadata: ObjectMeta = { ...object.metadata };
  for (const field of SERVER_METADATA) delete metadata[field];
  if (object.kind === "Namespace" && metadata.labels?.[NAMESPACE_NAME_LABEL] !== undefined) {
    const { [NAMESPACE_NAME_LABEL]: _serverSet, ...labels } = metadata.labels;
    metadata.labels = labels;
    if (Object.keys(labels).length === 0) delete metadata.labels;
  }
  const { status: _status, ...rest } = object;
  return { ...rest, metadata };
}
