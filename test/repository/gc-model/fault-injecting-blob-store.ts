import type { BlobInfo, BlobStore } from "../../../functions/lib/repository/blob-store.ts";
import type { SeededRandom } from "./seeded-random.ts";

/** What the model's store does to its callers; thrown faults are this class, so callers match by class. */
export class InjectedFault extends Error {
  override readonly name = "InjectedFault";
}

export interface FaultRates {
  /** A write throws before it reaches the store. */
  failBefore: number;
  /** A write reaches the store but its caller sees an error (a lost response). */
  failAfter: number;
  /** A write is applied twice (a retried request that had succeeded). */
  duplicate: number;
  /** A list misses keys written less than lagMs ago (eventually consistent listing). */
  lagList: number;
  lagMs: number;
  /** An operation is delayed while the other actors make many calls. */
  delay: number;
}

export const defaultFaultRates: FaultRates = {
  failBefore: 0.01,
  failAfter: 0.01,
  duplicate: 0.05,
  lagList: 0.3,
  lagMs: 10 * 60_000,
  delay: 0.05,
};

/**
 * Wraps a store with the failures S3 and its clients show: failed and lost-response writes,
 * duplicated writes, operations that yield to other actors at random points, and lagging lists.
 */
export class FaultInjectingBlobStore implements BlobStore {
  readonly location: string;
  private readonly writtenAt = new Map<string, number>();
  /** Off while the repository is opened: the model is about chunks, not about opening. */
  private injecting = false;

  constructor(
    private readonly inner: BlobStore,
    private readonly random: SeededRandom,
    private readonly now: () => Date,
    private readonly rates: FaultRates = defaultFaultRates,
  ) {
    this.location = inner.location;
  }

  startInjecting(): void {
    this.injecting = true;
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    await this.write(key, () => this.inner.put(key, data));
  }

  async putIfAbsent(key: string, data: Uint8Array): Promise<boolean> {
    return this.write(key, () => this.inner.putIfAbsent(key, data));
  }

  async get(key: string): Promise<Buffer | undefined> {
    await this.yieldRandomly();
    return this.inner.get(key);
  }

  async head(key: string): Promise<BlobInfo | undefined> {
    await this.yieldRandomly();
    return this.inner.head(key);
  }

  async *list(prefix: string): AsyncIterable<BlobInfo> {
    await this.yieldRandomly();
    const lagging = this.chance(this.rates.lagList);
    const cutoff = this.now().getTime() - this.rates.lagMs;
    for await (const info of this.inner.list(prefix)) {
      if (lagging && (this.writtenAt.get(info.key) ?? 0) > cutoff) continue;
      yield info;
      await this.yieldRandomly();
    }
  }

  async delete(key: string): Promise<void> {
    await this.yieldRandomly();
    if (this.chance(this.rates.failBefore)) throw new InjectedFault(`delete ${key} failed`);
    await this.inner.delete(key);
  }

  private async write<T>(key: string, apply: () => Promise<T>): Promise<T> {
    await this.yieldRandomly();
    if (this.chance(this.rates.failBefore)) throw new InjectedFault(`write ${key} failed`);
    const result = await apply();
    this.writtenAt.set(key, this.now().getTime());
    if (this.chance(this.rates.duplicate)) {
      await this.yieldRandomly();
      await apply();
    }
    if (this.chance(this.rates.failAfter)) throw new InjectedFault(`write ${key}: response lost`);
    return result;
  }

  private chance(probability: number): boolean {
    return this.injecting && this.random.chance(probability);
  }

  /** Lets other actors run here, so their operations interleave with this one; sometimes for long. */
  private async yieldRandomly(): Promise<void> {
    const ticks = this.chance(this.rates.delay) ? this.random.int(10, 60) : this.random.int(0, 3);
    for (let tick = ticks; tick > 0; tick--) await new Promise(setImmediate);
  }
}
