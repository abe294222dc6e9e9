import { acquireLock, type Lock, repositoryLockName } from "./locks.ts";
import type { Repository } from "./repository.ts";

export interface CollectGarbageOptions {
  /** Who collects, shown to a run refused while collection holds the repository lock. */
  owner: string;
  /** Report what would be deleted without deleting it. */
  dryRun?: boolean;
  /**
   * Chunks younger than this are kept even if unreferenced: a belt to the lock's braces, for a
   * run whose lease lapsed while it was still uploading.
   */
  minAgeMs?: number;
  lockTtlMs?: number;
  now?: () => Date;
}

export interface GarbageReport {
  dryRun: boolean;
  runs: number;
  referencedChunks: number;
  scannedChunks: number;
  /** Ids of chunks deleted (or, in a dry run, that would be). */
  deletedChunks: string[];
  deletedBytes: number;
  keptYoungChunks: number;
}

/**
 * Mark and sweep: every chunk referenced by a volume manifest of any run still in the repository
 * is kept, the rest deleted. Holds the repository lock throughout, so it refuses (LockHeld) to
 * start while a run is writing, and no run can start while it sweeps.
 */
export async function collectGarbage(
  repository: Repository,
  options: CollectGarbageOptions,
): Promise<GarbageReport> {
  const now = options.now ?? (() => new Date());
  const lockTtlMs = options.lockTtlMs ?? 15 * 60_000;
  const minAgeMs = options.minAgeMs ?? 60 * 60_000;
  const lock = await acquireLock(repository.store, repositoryLockName, {
    owner: options.owner,
    ttlMs: lockTtlMs,
    now,
  });
  try {
    const runIds = await repository.manifests.listRunIds();
    const referenced = new Set<string>();
    for (const runId of runIds) {
      for await (const volume of repository.manifests.volumeManifests(runId)) {
        for (const id of volume.image.chunks) if (id !== null) referenced.add(id);
      }
    }

    const report: GarbageReport = {
      dryRun: options.dryRun ?? false,
      runs: runIds.length,
      referencedChunks: referenced.size,
      scannedChunks: 0,
      deletedChunks: [],
      deletedBytes: 0,
      keptYoungChunks: 0,
    };
    for await (const chunk of repository.content.listChunks()) {
      report.scannedChunks++;
      if (referenced.has(chunk.id)) continue;
      if (now().getTime() - chunk.lastModified.getTime() < minAgeMs) {
        report.keptYoungChunks++;
        continue;
      }
      if (!report.dryRun) {
        await keepLease(lock, lockTtlMs, now);
        await repository.content.deleteChunk(chunk.id);
      }
      report.deletedChunks.push(chunk.id);
      report.deletedBytes += chunk.size;
    }
    return report;
  } finally {
    await lock.release();
  }
}

/** Renews once half the lease is used, so a long sweep never deletes on a lapsed lock. */
async function keepLease(lock: Lock, ttlMs: number, now: () => Date) {
  if (lock.expiresAt.getTime() - now().getTime() < ttlMs / 2) await lock.renew();
}
