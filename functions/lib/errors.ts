/**
 * Domain errors. Each class sets `name` to its own class name, which is what a Lambda
 * reports as the error type, so the workflow's Retry/Catch/Choice can route on it.
 * Messages say what failed (cluster, object, volume, chunk) and what to do.
 */
export class KubeferryError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A request or configuration value is invalid; nothing was changed. */
export class ValidationError extends KubeferryError {}
/** A pairing check failed (unreachable, missing permission, same cluster, …). */
export class PairingError extends KubeferryError {}
/** A VolumeSnapshot did not become ready in time. */
export class SnapshotTimeout extends KubeferryError {}
/** A VolumeSnapshot found ready to use is no longer ready when it is read. */
export class SnapshotUnready extends KubeferryError {}
/** An object exists on the destination and the policy says to fail. */
export class ConflictError extends KubeferryError {}
/** The destination volume's digest does not match the manifest. */
export class VerifyFailed extends KubeferryError {}
/** A command run in a pod (hook, helper) failed. */
export class ExecFailed extends KubeferryError {}
/** A drill found no committed run of its namespaces to restore. */
export class NoCommittedRun extends KubeferryError {}

// The chunk repository defines its own errors (they carry the repository and chunk id).
export * from "./repository/errors.ts";
/** The VolumeSnapshotClass a pair names does not exist on the source cluster. */
export class SnapshotClassMissing extends KubeferryError {}
/** A cutover's source did not stop, or its destination did not become ready, in the time the request allows. */
export class CutoverTimeout extends KubeferryError {}
