import { describe, expect, it } from "vitest";
import { LockHeld, LockLost } from "../../../functions/lib/repository/errors.ts";
import { FilesystemBlobStore } from "../../../functions/lib/repository/filesystem-blob-store.ts";
import { acquireLock, readLock } from "../../../functions/lib/repository/locks.ts";
import { tempDirectory } from "./fixtures.ts";

/** A clock the test moves by hand. */
function manualClock(start = Date.parse("2026-11-26T05:00:00Z")) {
  let now = start;
  return { now: () => new Date(now), advance: (ms: number) => (now += ms) };
}

const minute = 60_000;

describe("locks", () => {
  it("refuses a lock held by another owner, naming the owner and the expiry", async () => {
    const store = new FilesystemBlobStore(await tempDirectory());
    const clock = manualClock();
    await acquireLock(store, "repository", { owner: "run-1", ttlMs: 10 * minute, now: clock.now });
    const error = await acquireLock(store, "repository", {
      owner: "run-2",
      ttlMs: minute,
      now: clock.now,
    }).catch((caught) => caught);
    expect(error).toBeInstanceOf(LockHeld);
    expect(error.name).toBe("LockHeld");
    expect(error.owner).toBe("run-1");
    expect(error.message).toContain("lock repository is held by run-1 until 2026-11-26T05:10:00.000Z");
  });

  it("gives the lock back to the same owner (a retried step)", async () => {
    const store = new FilesystemBlobStore(await tempDirectory());
    await acquireLock(store, "repository", { owner: "run-1", ttlMs: minute });
    const again = await acquireLock(store, "repository", { owner: "run-1", ttlMs: minute });
    expect(again.owner).toBe("run-1");
  });

  it("frees the lock on release", async () => {
    const store = new FilesystemBlobStore(await tempDirectory());
    const lock = await acquireLock(store, "repository", { owner: "run-1", ttlMs: minute });
    await lock.release();
    expect((await readLock(store, "repository"))?.held).toBe(false);
    await acquireLock(store, "repository", { owner: "run-2", ttlMs: minute });
    expect(await readLock(store, "repository")).toMatchObject({ owner: "run-2", held: true });
  });

  it("lets another owner take an expired lock over, after which the old owner cannot renew", async () => {
    const store = new FilesystemBlobStore(await tempDirectory());
    const clock = manualClock();
    const stale = await acquireLock(store, "repository", { owner: "run-1", ttlMs: minute, now: clock.now });
    clock.advance(2 * minute);
    const taken = await acquireLock(store, "repository", { owner: "run-2", ttlMs: minute, now: clock.now });
    expect(taken.owner).toBe("run-2");
    await expect(stale.renew()).rejects.toThrow(LockLost);
    await stale.release();
    expect(await readLock(store, "repository", clock.now)).toMatchObject({ owner: "run-2", held: true });
  });

  it("refuses to renew a lease that has lapsed, even when nobody took the lock over", async () => {
    const store = new FilesystemBlobStore(await tempDirectory());
    const clock = manualClock();
    const lock = await acquireLock(store, "repository", { owner: "run-1", ttlMs: minute, now: clock.now });
    clock.advance(minute);
    await expect(lock.renew()).rejects.toThrow(LockLost);
  });

  it("refuses to renew when a newer generation exists, even one whose predecessor was deleted", async () => {
    const store = new FilesystemBlobStore(await tempDirectory());
    // The stale owner's clock runs behind, so by its own clock its lease has not lapsed.
    const staleClock = manualClock();
    const clock = manualClock();
    const stale = await acquireLock(store, "repository", {
      owner: "run-1",
      ttlMs: minute,
      now: staleClock.now,
    });
    clock.advance(2 * minute);
    const taken = await acquireLock(store, "repository", { owner: "run-2", ttlMs: minute, now: clock.now });
    // The new owner's renewal deletes generation 1, so the stale owner could create it again.
    await taken.renew();
    await expect(stale.renew()).rejects.toThrow(LockLost);
    expect(await readLock(store, "repository", clock.now)).toMatchObject({ owner: "run-2", held: true });
  });

  it("extends the lease on renew", async () => {
    const store = new FilesystemBlobStore(await tempDirectory());
    const clock = manualClock();
    const lock = await acquireLock(store, "repository", { owner: "run-1", ttlMs: minute, now: clock.now });
    clock.advance(50_000);
    await lock.renew();
    clock.advance(50_000);
    await expect(
      acquireLock(store, "repository", { owner: "gc", ttlMs: minute, now: clock.now }),
    ).rejects.toThrow(LockHeld);
  });

  it("lets exactly one of several contenders take an expired lock", async () => {
    const store = new FilesystemBlobStore(await tempDirectory());
    const clock = manualClock();
    await acquireLock(store, "repository", { owner: "crashed", ttlMs: minute, now: clock.now });
    clock.advance(2 * minute);
    const attempts = await Promise.allSettled(
      ["a", "b", "c", "d", "e"].map((owner) =>
        acquireLock(store, "repository", { owner, ttlMs: minute, now: clock.now }),
      ),
    );
    const winners = attempts.filter((attempt) => attempt.status === "fulfilled");
    expect(winners).toHaveLength(1);
    for (const attempt of attempts) {
      if (attempt.status === "rejected") expect(attempt.reason).toBeInstanceOf(LockHeld);
    }
    const state = await readLock(store, "repository", clock.now);
    expect(state?.owner).toBe(winners[0]?.status === "fulfilled" ? winners[0].value.owner : undefined);
  });

  it("keeps only the latest generation of a lock", async () => {
    const root = await tempDirectory();
    const store = new FilesystemBlobStore(root);
    const lock = await acquireLock(store, "repository", { owner: "run-1", ttlMs: minute });
    await lock.renew();
    await lock.release();
    const keys: string[] = [];
    for await (const info of store.list("locks/repository/")) keys.push(info.key);
    expect(keys).toEqual(["locks/repository/0000000000000002.json"]);
  });
});
