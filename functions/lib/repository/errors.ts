/**
 * Named repository errors. `name` is what a Lambda reports as its error type, so the workflow's
 * Retry and Catch can route on it; the message says what is wrong and what to do.
 */

export class ChunkMissing extends Error {
  override readonly name = "ChunkMissing";
  constructor(
    readonly repository: string,
    readonly chunkId: string,
  ) {
    super(
      `repository ${repository}: chunk ${chunkId} is missing; a manifest references a chunk that was ` +
        "deleted or never uploaded — stage the volume again",
    );
  }
}

export class ChunkCorrupt extends Error {
  override readonly name = "ChunkCorrupt";
  constructor(
    readonly repository: string,
    readonly chunkId: string,
    reason: string,
  ) {
    super(
      `repository ${repository}: chunk ${chunkId} is corrupt (${reason}); delete the object and stage ` +
        "the volume again",
    );
  }
}

export class ManifestInvalid extends Error {
  override readonly name = "ManifestInvalid";
  constructor(
    readonly repository: string,
    readonly key: string,
    reason: string,
  ) {
    super(`repository ${repository}: manifest ${key} is unreadable (${reason})`);
  }
}

export class ManifestMissing extends Error {
  override readonly name = "ManifestMissing";
  constructor(
    readonly repository: string,
    readonly key: string,
  ) {
    super(`repository ${repository}: manifest ${key} does not exist`);
  }
}

export class KeyUnwrapFailed extends Error {
  override readonly name = "KeyUnwrapFailed";
  constructor(
    readonly repository: string,
    readonly keyId: string,
    reason: string,
    options?: ErrorOptions,
  ) {
    super(
      `repository ${repository}: cannot unwrap the repository key with KMS key ${keyId} (${reason}); ` +
        "check that the key is the one the repository was created with, is enabled, and that the " +
        "caller may use it for this repository",
      options,
    );
  }
}

export class WrongRepositoryKey extends Error {
  override readonly name = "WrongRepositoryKey";
  constructor(
    readonly repository: string,
    keySource: string,
  ) {
    super(
      `repository ${repository}: the key from ${keySource} is not the key this repository was created ` +
        "with; use the original key",
    );
  }
}

export class LockHeld extends Error {
  override readonly name = "LockHeld";
  constructor(
    readonly lock: string,
    readonly owner: string,
    readonly expiresAt: Date,
  ) {
    super(
      `lock ${lock} is held by ${owner} until ${expiresAt.toISOString()}; wait for it to finish or ` +
        "for the lock to expire",
    );
  }
}

export class LockLost extends Error {
  override readonly name = "LockLost";
  constructor(
    readonly lock: string,
    readonly owner: string,
  ) {
    super(`lock ${lock} owned by ${owner} expired and was taken over; stop and rerun the operation`);
  }
}
