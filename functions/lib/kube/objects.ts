/**
 * The shape kubeferry needs from any Kubernetes object. Objects travel as plain JSON (they
 * come from many API groups, custom resources included), so this is deliberately loose.
 */
export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  [field: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/** Identifies an object in reports: what a person needs to find it. */
export interface ObjectRef {
  group: string;
  version: string;
  kind: string;
  namespace?: string;
  name: string;
}

export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf("/");
  return slash < 0
    ? { group: "", version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

export function objectRef(object: KubeObject): ObjectRef {
  const { group, version } = splitApiVersion(object.apiVersion);
  const ref: ObjectRef = { group, version, kind: object.kind, name: object.metadata.name };
  if (object.metadata.namespace) ref.namespace = object.metadata.namespace;
  return ref;
}

/** "apps/v1 StatefulSet shop/db" — the form used in every error message and log line. */
export function describeObject(object: KubeObject | ObjectRef): string {
  const ref = "metadata" in object ? objectRef(object) : object;
  const apiVersion = ref.group ? `${ref.group}/${ref.version}` : ref.version;
  const name = ref.namespace ? `${ref.namespace}/${ref.name}` : ref.name;
  return `${apiVersion} ${ref.kind} ${name}`;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The object's spec as a record (empty when absent), for transforms that read it. */
export function specOf(object: KubeObject): Record<string, unknown> {
  return isRecord(object.spec) ? object.spec : {};
}

/** A copy of the object with annotations added (string values) or removed (undefined). */
export function withAnnotations(object: KubeObject, changes: Record<string, string | undefined>): KubeObject {
  const annotations: Record<string, string> = { ...object.metadata.annotations };
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) delete annotations[key];
    else annotations[key] = value;
  }
  const metadata: ObjectMeta = { ...object.metadata, annotations };
  if (Object.keys(annotations).length === 0) delete metadata.annotations;
  return { ...object, metadata };
}

/** The controller owner reference, if a controller manages this object. */
export function controllerOf(object: KubeObject): OwnerReference | undefined {
  return object.metadata.ownerReferences?.find((owner) => owner.controller === true);
}
