import { LockHeld } from "../repository/errors.ts";
import { acquireLock, readLock, repositoryLockName } from "../repository/locks.ts";
import type { Repository } from "../repository/repository.ts";
import type { Run } from "./run.ts";

/**
 * One lock per migrated namespace of a pair, so two runs never write the same namespace at
 * once while runs of other namespaces go on. The lease outlives the migrate workflow's own
 * timeout (7 days: a 24 h snapshot wait and then days of terabytes at 20 MiB/s) by an hour: every
 * ending's compensation releases the locks, and the lease frees them should even that not run.
 */
export const runLockTtlMs = (7 * 24 + 1) * 60 * 60 * 1000;

export function runLockNames(run: Run): string[] {
  return [...run.request.namespaces].sort().map((namespace) => `namespace-${namespace}`);
}

export type LockOutcome =
  | { acquired: true }
  | { acquired: false; heldBy: string; lock: string; until: string };

/**
 * Takes every namespace lock of the run, in sorted order so that two runs never each hold a
 * part; gives back what it took if one is held. Re-running it for the same run is harmless
 * (a lock already held by this run is its own). Garbage collection holds the repository lock
 * while it sweeps: a run does not start then.
 */
export async function acquireRunLocks(
  repository: Repository,
  run: Run,
  now: () => Date,
): Promise<LockOutcome> {
  const collection = await readLock(repository.store, repositoryLockName, now);
  if (collection?.held) {
    return {
      acquired: false,
      heldBy: collection.owner,
      lock: repositoryLockName,
      until: collection.expiresAt.toISOString(),
    };
  }
  const taken = [];
  for (const name of runLockNames(run)) {
    try {
      taken.push(await acquireLock(repository.store, name, { owner: run.id, ttlMs: runLockTtlMs, now }));
    } catch (error) {
      if (!(error instanceof LockHeld)) throw error;
      for (const lock of taken) await lock.release();
      const state = await readLock(repository.store, name, now);
      return {
        acquired: false,
        heldBy: state?.owner ?? "another run",
        lock: name,
        until: (state?.expiresAt ?? now()).toISOString(),
      };
    }
  }
  return { acquired: true };
}

/** Releases what this run holds; locks it does not hold (never taken, taken over) are left alone. */
export async function releaseRunLocks(repository: Repository, run: Run, now: () => Date): Promise<void> {
  for (const name of runLockNames(run)) {
    const state = await readLock(repository.store, name, now);
    if (state?.owner !== run.id || !state.held) continue;
    const lock = await acquireLock(repository.store, name, { owner: run.id, ttlMs: runLockTtlMs, now });
    await lock.release();
  }
}

/** Whether any run holds a namespace lock of the repository: garbage collection waits for it. */
export async function heldRunLocks(repository: Repository, now: () => Date): Promise<string[]> {
  const held: string[] = [];
  for await (const info of repository.store.list("locks/namespace-")) {
    const name = info.key.split("/")[1];
    if (name === undefined || held.includes(name)) continue;
    if ((await readLock(repository.store, name, now))?.held) held.push(name);
  }
  return held;
}
