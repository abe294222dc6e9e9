import { isRecord, type KubeObject } from "../objects.ts";

type PodSpec = Record<string, unknown>;

/** Where each built-in kind keeps its pod spec, as a path of fields from the object's root. */
const POD_SPEC_PATHS: Record<string, readonly string[]> = {
  Pod: ["spec"],
  Deployment: ["spec", "template", "spec"],
  StatefulSet: ["spec", "template", "spec"],
  DaemonSet: ["spec", "template", "spec"],
  ReplicaSet: ["spec", "template", "spec"],
  ReplicationController: ["spec", "template", "spec"],
  Job: ["spec", "template", "spec"],
  CronJob: ["spec", "jobTemplate", "spec", "template", "spec"],
};

/** A copy of the object with its pod spec replaced by `change(podSpec)`; others unchanged. */
export function mapPodSpec(object: KubeObject, change: (podSpec: PodSpec) => PodSpec): KubeObject {
  const path = POD_SPEC_PATHS[object.kind];
  if (!path) return object;
  return replaceAt(object, path, change) as KubeObject;
}

function replaceAt(
  node: Record<string, unknown>,
  path: readonly string[],
  change: (value: PodSpec) => PodSpec,
): Record<string, unknown> {
  const [field, ...rest] = path;
  if (field === undefined) return change(node);
  const child = node[field];
  if (!isRecord(child)) return node;
  return { ...node, [field]: replaceAt(child, rest, change) };
}
