import { isRecord, type KubeObject, specOf } from "../objects.ts";

/** Labels the Job controller adds to the pod template; they carry the source Job's UID. */
const CONTROLLER_UID_LABELS = ["controller-uid", "batch.kubernetes.io/controller-uid"];

/**
 * A Job's selector is generated from its UID. Applying the source's selector on the destination
 * is refused ("selector does not match template labels" / manual selector), so the selector and
 * the UID labels are dropped and the destination generates its own.
 */
export function clearJobSelector(object: KubeObject): KubeObject {
  if (object.kind !== "Job" || object.apiVersion !== "batch/v1") return object;
  const { selector: _selector, ...spec } = specOf(object);
  if (spec.manualSelector === true) return object;
  const template = isRecord(spec.template) ? spec.template : {};
  const templateMetadata = isRecord(template.metadata) ? template.metadata : {};
  const labels: Record<string, unknown> = isRecord(templateMetadata.labels)
    ? { ...templateMetadata.labels }
    : {};
  for (const label of CONTROLLER_UID_LABELS) delete labels[label];
  return {
    ...object,
    spec: { ...spec, template: { ...template, metadata: { ...templateMetadata, labels } } },
  };
}
