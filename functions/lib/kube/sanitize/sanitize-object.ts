import type { KubeObject } from "../objects.ts";
import { clearJobSelector } from "./job-selector.ts";
import { clearPodNodeName } from "./pod-node-name.ts";
import { clearPvcBinding } from "./pvc-binding.ts";
import { clearServiceClusterIp } from "./service-cluster-ip.ts";
import { stripServerFields } from "./strip-server-fields.ts";
import { clearVolumeCopyMarks } from "./volume-copy-marks.ts";

/** Every sanitizer, in order; each leaves objects it does not concern untouched. */
const SANITIZERS: ReadonlyArray<(object: KubeObject) => KubeObject> = [
  stripServerFields,
  clearServiceClusterIp,
  clearPvcBinding,
  clearVolumeCopyMarks,
  clearJobSelector,
  clearPodNodeName,
];

/** Turns an object read from the source into one the destination can accept as new. */
export function sanitizeObject(object: KubeObject): KubeObject {
  return SANITIZERS.reduce((current, sanitize) => sanitize(current), object);
}
