import { GROUP_LABEL } from "../../volumes/group-snapshots.ts";
import {
  ACTIVATED_ANNOTATION,
  RESTORED_ANNOTATION,
  RESTORED_BY_PAIR_ANNOTATION,
  RESTORING_ANNOTATION,
  VERIFIED_ANNOTATION,
} from "../../volumes/names.ts";
import { type KubeObject, withAnnotations } from "../objects.ts";

/**
 * What kubeferry wrote on a PVC about this cluster's copy of its volume (which manifest it holds,
 * which pair restores it, when it went live) and the label of a group snapshot cut. They describe
 * the volume here, not the application's object: carried to the other cluster (replicating an
 * activated copy back, a reversed pair) they would tell its restore that its own volume holds a
 * manifest it never received.
 */
const COPY_ANNOTATIONS = [
  RESTORED_ANNOTATION,
  RESTORED_BY_PAIR_ANNOTATION,
  RESTORING_ANNOTATION,
  ACTIVATED_ANNOTATION,
  VERIFIED_ANNOTATION,
] as const;

export function clearVolumeCopyMarks(object: KubeObject): KubeObject {
  if (object.kind !== "PersistentVolumeClaim" || object.apiVersion !== "v1") return object;
  const cleared = withAnnotations(
    object,
    Object.fromEntries(COPY_ANNOTATIONS.map((key) => [key, undefined])),
  );
  const { labels: allLabels, ...metadata } = cleared.metadata;
  const { [GROUP_LABEL]: _group, ...labels } = allLabels ?? {};
  return { ...cleared, metadata: Object.keys(labels).length > 0 ? { ...metadata, labels } : metadata };
}
