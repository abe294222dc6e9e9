import { chunkReferences } from "./chunk-references.ts";
import { DeletionCandidates } from "./deletion-candidates.ts";
import { acquireLock, type Lock, repositoryLockName } from "./locks.ts";
import type { Repository } from "./repository.ts";

/** Longer than the longest run (the migrate workflow times out after 7 days). */
export const defaultSafetyMarginMs = 8 * 24 * 3_600_000;

export interface CollectGarbageOptions {
  /** Who collects, shown to a run refused while collection holds the repository lock. */
  owner: string;
  /** Report what would be marked and deleted without writing or deleting anything. */
  dryRun?: boolean;
  /**
   * How long a chunk must stay an unreferenced deletion candidate before it is deleted. Longer
   * than any run, so a run that was writing (or listing) when the chunk was marked has long
   * committed the manifest or part that references it by the time the chunk could go.
   */
  safetyMarginMs?: number;
  lockTtlMs?: number;
  now?: () => Date;
}

export interface GarbageReport {
  dryRun: boolean;
  runs: number;
  referencedChunks: number;
  scannedChunks: number;
  /** Unreferenced chunks this pass made deletion candidates. */
  markedChunks: number;
  /** Candidates referenced again (or reused by a writer) whose mark this pass removed. */
  unmarkedChunks: number;
  /** Ids of chunks deleted (or, in a dry run, that would be). */
  deletedChunks: string[];
  deletedBytes: number;
  /** Unreferenced chunks kept because their mark is younger than the safety margin. */
  keptYoungChunks: number;
}

/**
 * Two-phase mark and sweep, as Kopia's maintenance does it. A pass computes every chunk still
 * referenced (chunkReferences); an unreferenced chunk is not deleted but marked as a deletion
 * candidate (deletion-candidates.ts); a candidate is deleted by a later pass only if it is still
 * unreferenced and was marked longer than the safety margin ago; a candidate referenced again
 * loses its mark. Writers that reuse a chunk remove its mark first (ContentStore.reuseChunk).
 *
 * The repository lock keeps two passes apart and makes runs wait, but deletion does not depend
 * on it: a run may start, or hold a lapsed lease, while a pass runs. Deleting a candidate goes:
 *   (a) re-read the mark; go on only if it is still there and past the margin;
 *   (b) copy the sealed chunk to gc/deleting/<id> (so a crash from here on loses nothing);
 *   (c) delete the chunk;
 *   (d) re-read the mark: gone means a writer reused the chunk since (a), so put the chunk back
 *       (create-if-absent); still there means nobody did, so remove the mark;
 *   (e) delete the copy. A pass starts by putting back every copy a stopped pass left.
 * A writer reusing a chunk (w1) removes its mark if there is one, then (w2) looks the chunk up
 * and stores it if it is absent. Interleavings for a writer that found the mark at w1:
 *   - w1 before (a): (a) finds no mark (a mark made since is fresh, not past the margin): kept.
 *   - w1 between (a) and (d): (d) finds the mark gone and puts the chunk back; if w2 fell between
 *     (c) and (d), the writer stored the chunk itself and the put-back does nothing.
 *   - w1 after (d): then (c) is before w2, so w2 finds the chunk absent and the writer stores it.
 * A writer that found no mark at w1: either (a) is later and finds no mark past the margin (a
 * mark is never created with an old time), or (a) is earlier and the mark was removed between
 * (a) and w1: by another writer, and (d) puts the chunk back; or by this pass's (d), and then
 * (c) is before w2, which stores the chunk. So dedup never ends on a deleted chunk; the only gap
 * is that a reader of the chunk between (c) and the put-back finds it missing.
 * Chunks stored without dedup are unreferenced until their run writes a part or a manifest; the
 * margin, longer than any run, is what keeps them: a mark made meanwhile is not past it before
 * the reference exists, and a pass that finds the reference removes the mark.
 * A chunk stored again after its mark (a writer after a deletion) has a stale mark: it is
 * removed, and a later pass marks the chunk afresh. This compares the store's modification time
 * with the collector's clock, so it assumes they agree to well within the margin.
 */
export async function collectGarbage(
  repository: Repository,
  options: CollectGarbageOptions,
): Promise<GarbageReport> {
  const now = options.now ?? (() => new Date());
  const lockTtlMs = options.lockTtlMs ?? 15 * 60_000;
  const safetyMarginMs = options.safetyMarginMs ?? defaultSafetyMarginMs;
  const dryRun = options.dryRun ?? false;
  const lock = await acquireLock(repository.store, repositoryLockName, {
    owner: options.owner,
    ttlMs: lockTtlMs,
    now,
  });
  const keepLease = () => renewAtHalfLife(lock, lockTtlMs, now);
  try {
    const sweep = new Sweep(repository, new DeletionCandidates(repository.store), safetyMarginMs, now);
    if (!dryRun) await sweep.putBackInterruptedDeletions(keepLease);
    const references = await chunkReferences(repository);
    await keepLease();
    const report: GarbageReport = {
      dryRun,
      runs: references.runs,
      referencedChunks: references.chunks.size,
      scannedChunks: 0,
      markedChunks: 0,
      unmarkedChunks: 0,
      deletedChunks: [],
      deletedBytes: 0,
      keptYoungChunks: 0,
    };
    const candidates = await sweep.markedCandidates();
    const seen = new Set<string>();
    for await (const chunk of repository.content.listChunks()) {
      report.scannedChunks++;
      seen.add(chunk.id);
      await keepLease();
      const markedAt = candidates.get(chunk.id);
      if (references.chunks.has(chunk.id)) {
        if (markedAt !== undefined) {
          report.unmarkedChunks++;
          if (!dryRun) await sweep.candidates.unmark(chunk.id);
        }
      } else if (markedAt === undefined) {
        report.markedChunks++;
        report.keptYoungChunks++;
        if (!dryRun) await sweep.candidates.mark(chunk.id, now());
      } else if (chunk.lastModified > markedAt) {
        // Stored again after it was marked: the mark says nothing about this copy.
        report.unmarkedChunks++;
        if (!dryRun) await sweep.candidates.unmark(chunk.id);
      } else if (!sweep.pastMargin(markedAt)) {
        report.keptYoungChunks++;
      } else if (dryRun || (await sweep.deleteCandidate(chunk.id))) {
        report.deletedChunks.push(chunk.id);
        report.deletedBytes += chunk.size;
      }
    }
    // Marks of chunks already gone (deleted by a pass that stopped before removing the mark).
    if (!dryRun) {
      for (const id of candidates.keys()) if (!seen.has(id)) await sweep.candidates.unmark(id);
    }
    return report;
  } finally {
    await lock.release();
  }
}

const deletingPrefix = "gc/deleting/";

/** The steps of one pass that touch candidates, named after the protocol above. */
class Sweep {
  constructor(
    private readonly repository: Repository,
    readonly candidates: DeletionCandidates,
    private readonly safetyMarginMs: number,
    private readonly now: () => Date,
  ) {}

  pastMargin(markedAt: Date): boolean {
    return this.now().getTime() - markedAt.getTime() >= this.safetyMarginMs;
  }

  /** Every candidate and when it was marked. */
  async markedCandidates(): Promise<Map<string, Date>> {
    const marked = new Map<string, Date>();
    for await (const id of this.candidates.list()) {
      const markedAt = await this.candidates.markedAt(id);
      if (markedAt !== undefined) marked.set(id, markedAt);
    }
    return marked;
  }

  /** Steps (a) to (e); false when the chunk was kept. */
  async deleteCandidate(id: string): Promise<boolean> {
    const markedAt = await this.candidates.markedAt(id);
    if (markedAt === undefined || !this.pastMargin(markedAt)) return false;
    const sealed = await this.repository.content.getSealed(id);
    if (sealed === undefined) {
      await this.candidates.unmark(id);
      return false;
    }
    await this.repository.store.put(`${deletingPrefix}${id}`, sealed);
    await this.repository.content.deleteChunk(id);
    let deleted = true;
    if ((await this.candidates.markedAt(id)) === undefined) {
      await this.repository.content.putSealedIfAbsent(id, sealed);
      deleted = false;
    } else {
      await this.candidates.unmark(id);
    }
    await this.repository.store.delete(`${deletingPrefix}${id}`);
    return deleted;
  }

  /** Step (e) of a pass that stopped in between: its chunks go back, to be judged afresh. */
  async putBackInterruptedDeletions(keepLease: () => Promise<void>): Promise<void> {
    for await (const info of this.repository.store.list(deletingPrefix)) {
      await keepLease();
      const id = info.key.slice(deletingPrefix.length);
      const sealed = await this.repository.store.get(info.key);
      if (sealed !== undefined) await this.repository.content.putSealedIfAbsent(id, sealed);
      await this.repository.store.delete(info.key);
    }
  }
}

/** Renews once half the lease is used, so a long pass never works on a lapsed lock. */
async function renewAtHalfLife(lock: Lock, ttlMs: number, now: () => Date) {
  if (lock.expiresAt.getTime() - now().getTime() < ttlMs / 2) await lock.renew();
}
