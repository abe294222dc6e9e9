import type { ObjectRef } from "../objects.ts";

/**
 * What happened to one object. Dry runs report WouldCreate / WouldUpdate / Unchanged from the
 * server's own dry-run answer; nothing is written. Unchanged outside a dry run is known only
 * when the object was read first (policies skip and fail); under update it reads Updated.
 */
export type ObjectOutcome =
  | "Created"
  | "Updated"
  | "Skipped"
  | "Failed"
  | "WouldCreate"
  | "WouldUpdate"
  | "Unchanged";

export interface ObjectStatus extends ObjectRef {
  status: ObjectOutcome;
  /** Why, in words a person can act on: the server's message for failures. */
  reason?: string;
}

export type RunStatus = "Successful" | "PartialSuccess" | "Failed";

/**
 * A run is Successful only when no object failed. Failures alongside successes are a
 * PartialSuccess; a run that stopped early (fail-fast) or applied nothing is Failed.
 */
export function runStatus(objects: readonly ObjectStatus[], stoppedEarly: boolean): RunStatus {
  const failed = objects.some((object) => object.status === "Failed");
  if (!failed) return "Successful";
  if (stoppedEarly || objects.every((object) => object.status === "Failed")) return "Failed";
  return "PartialSuccess";
}
