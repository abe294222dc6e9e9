import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { BlobStore } from "./blob-store.ts";
import { LockHeld, LockLost } from "./errors.ts";

/**
 * Leases built only on create-if-absent, which every blob store has.
 *
 * A lock is a series of generations, locks/<name>/<generation>.json; the highest generation is the
 * lock's state. Acquiring, renewing and releasing each create the next generation, and since only
 * one writer can create a given generation, only one of several contenders for an expired lock
 * wins. Older generations are deleted; a contender acting on a stale view that recreates a deleted
 * generation sees a higher one when it checks, and backs off.
 */

/** The lock every run holds while it writes to the repository; garbage collection takes it too. */
export const repositoryLockName = "repository";

const lockRecordSchema = z.object({
  version: z.literal(1),
  owner: z.string(),
  token: z.string(),
  acquiredAt: z.iso.datetime(),
  expiresAt: z.iso.datetime(),
  released: z.boolean(),
});
type LockRecord = z.infer<typeof lockRecordSchema>;

export interface LockOptions {
  /** Who holds it, shown to whoever is refused (e.g. the run id). */
  owner: string;
  ttlMs: number;
  now?: () => Date;
}

export interface LockState {
  owner: string;
  expiresAt: Date;
  /** Held by its owner: neither released nor expired. */
  held: boolean;
}

export class Lock {
  constructor(
    private readonly store: BlobStore,
    readonly name: string,
    readonly owner: string,
    private generation: number,
    private record: LockRecord,
    private readonly ttlMs: number,
    private readonly now: () => Date,
  ) {}

  get expiresAt(): Date {
    return new Date(this.record.expiresAt);
  }

  /**
   * Extends the lease. Throws LockLost once the lease has lapsed (another owner may already act
   * on the lock, so work done under it must stop) or when a newer generation than ours exists
   * (someone took the lock over): creating the next generation alone would succeed in both cases,
   * since the owner who took over may have written a higher one or none yet.
   */
  async renew(): Promise<void> {
    if (this.now() >= this.expiresAt) throw new LockLost(this.name, this.owner);
    const newest = Math.max(this.generation, ...(await generations(this.store, this.name)));
    if (newest !== this.generation) throw new LockLost(this.name, this.owner);
    const next = newRecord(this.owner, this.now(), this.ttlMs, false);
    if (!(await this.store.putIfAbsent(generationKey(this.name, this.generation + 1), encode(next)))) {
      throw new LockLost(this.name, this.owner);
    }
    await deleteOlderGenerations(this.store, this.name, this.generation + 1);
    this.generation += 1;
    this.record = next;
  }

  /** Lets the next owner in; a lock already taken over by someone else is left to them. */
  async release(): Promise<void> {
    const released = newRecord(this.owner, this.now(), 0, true);
    if (await this.store.putIfAbsent(generationKey(this.name, this.generation + 1), encode(released))) {
      await deleteOlderGenerations(this.store, this.name, this.generation + 1);
    }
  }
}

/**
 * Takes the lock if it is free, released, expired, or already held by the same owner (so a
 * retried step gets its own lock back); otherwise throws LockHeld naming the holder.
 */
export async function acquireLock(store: BlobStore, name: string, options: LockOptions): Promise<Lock> {
  const now = options.now ?? (() => new Date());
  const current = await latestGeneration(store, name);
  if (current !== undefined) refuseIfHeldByOther(name, current.record, options.owner, now());

  const generation = (current?.generation ?? -1) + 1;
  const record = newRecord(options.owner, now(), options.ttlMs, false);
  if (!(await store.putIfAbsent(generationKey(name, generation), encode(record)))) {
    const winner = await readGeneration(store, name, generation);
    // Our own earlier attempt may have created it and lost the response.
    if (winner?.token !== record.token) throw heldBy(name, winner);
  }

  const latest = await latestGeneration(store, name);
  if (latest !== undefined && latest.generation !== generation) {
    await store.delete(generationKey(name, generation));
    throw heldBy(name, latest.record);
  }
  await deleteOlderGenerations(store, name, generation);
  return new Lock(store, name, options.owner, generation, record, options.ttlMs, now);
}

/** The lock's current state, or undefined if it was never taken. */
export async function readLock(
  store: BlobStore,
  name: string,
  now: () => Date = () => new Date(),
): Promise<LockState | undefined> {
  const current = await latestGeneration(store, name);
  if (current === undefined) return undefined;
  const expiresAt = new Date(current.record.expiresAt);
  return { owner: current.record.owner, expiresAt, held: !current.record.released && expiresAt > now() };
}

function refuseIfHeldByOther(name: string, record: LockRecord, owner: string, now: Date) {
  const expiresAt = new Date(record.expiresAt);
  if (!record.released && expiresAt > now && record.owner !== owner) {
    throw new LockHeld(name, record.owner, expiresAt);
  }
}

function heldBy(name: string, record: LockRecord | undefined): LockHeld {
  return new LockHeld(name, record?.owner ?? "another owner", new Date(record?.expiresAt ?? 0));
}

function newRecord(owner: string, now: Date, ttlMs: number, released: boolean): LockRecord {
  return {
    version: 1,
    owner,
    token: randomUUID(),
    acquiredAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + ttlMs).toISOString(),
    released,
  };
}

function encode(record: LockRecord): Buffer {
  return Buffer.from(JSON.stringify(record));
}

function lockPrefix(name: string): string {
  return `locks/${name}/`;
}

function generationKey(name: string, generation: number): string {
  // Fixed width so that key order is generation order.
  return `${lockPrefix(name)}${String(generation).padStart(16, "0")}.json`;
}

async function generations(store: BlobStore, name: string): Promise<number[]> {
  const found: number[] = [];
  for await (const info of store.list(lockPrefix(name))) {
    const match = /\/(\d{16})\.json$/.exec(info.key);
    if (match?.[1] !== undefined) found.push(Number(match[1]));
  }
  return found;
}

async function readGeneration(store: BlobStore, name: string, generation: number) {
  const data = await store.get(generationKey(name, generation));
  if (data === undefined) return undefined;
  const parsed = lockRecordSchema.safeParse(JSON.parse(data.toString("utf8")));
  if (!parsed.success) {
    throw new Error(
      `${store.location}${generationKey(name, generation)} is not a lock record; delete it to free lock ${name}`,
    );
  }
  return parsed.data;
}

async function latestGeneration(store: BlobStore, name: string) {
  const all = await generations(store, name);
  if (all.length === 0) return undefined;
  const generation = Math.max(...all);
  const record = await readGeneration(store, name, generation);
  // Deleted between list and get: a newer generation exists, so look again.
  if (record === undefined) return latestGeneration(store, name);
  return { generation, record };
}

async function deleteOlderGenerations(store: BlobStore, name: string, generation: number) {
  for (const older of await generations(store, name)) {
    if (older < generation) await store.delete(generationKey(name, older));
  }
}
