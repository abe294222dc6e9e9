import type { BlobInfo, BlobStore } from "./blob-store.ts";
import { isTransientError } from "./transient-errors.ts";

export interface RetryPolicy {
  /** Total tries including the first. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  isRetryable: (error: unknown) => boolean;
  sleep: (ms: number) => Promise<void>;
  /** A number in [0, 1); injectable so tests can pin the jitter. */
  random: () => number;
}

export const defaultRetryPolicy: RetryPolicy = {
  maxAttempts: 6,
  baseDelayMs: 100,
  maxDelayMs: 10_000,
  isRetryable: isTransientError,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
};

/** Full jitter: a uniform delay up to the exponential bound, so retrying clients spread out. */
export function backoffDelayMs(policy: RetryPolicy, failedAttempts: number): number {
  const bound = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (failedAttempts - 1));
  return Math.floor(policy.random() * bound);
}

export async function withRetry<T>(policy: RetryPolicy, operation: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (attempt >= policy.maxAttempts || !policy.isRetryable(error)) throw error;
      await policy.sleep(backoffDelayMs(policy, attempt));
    }
  }
}

/**
 * Retries transient failures of the store below. A putIfAbsent whose first attempt created the
 * object but lost the response reports false on retry; callers treat "already there" as success
 * or re-read what is there (see locks.ts), never as a failure.
 */
export class RetryingBlobStore implements BlobStore {
  readonly location: string;
  private readonly policy: RetryPolicy;

  constructor(
    private readonly inner: BlobStore,
    policy: Partial<RetryPolicy> = {},
  ) {
    this.location = inner.location;
    this.policy = { ...defaultRetryPolicy, ...policy };
  }

  put(key: string, data: Uint8Array): Promise<void> {
    return withRetry(this.policy, () => this.inner.put(key, data));
  }

  putIfAbsent(key: string, data: Uint8Array): Promise<boolean> {
    return withRetry(this.policy, () => this.inner.putIfAbsent(key, data));
  }

  get(key: string): Promise<Buffer | undefined> {
    return withRetry(this.policy, () => this.inner.get(key));
  }

  head(key: string): Promise<BlobInfo | undefined> {
    return withRetry(this.policy, () => this.inner.head(key));
  }

  /** A listing that fails midway resumes after the last key it yielded (keys come in order). */
  async *list(prefix: string): AsyncIterable<BlobInfo> {
    let lastKey: string | undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        for await (const info of this.inner.list(prefix)) {
          if (lastKey !== undefined && info.key <= lastKey) continue;
          lastKey = info.key;
          yield info;
        }
        return;
      } catch (error) {
        if (attempt >= this.policy.maxAttempts || !this.policy.isRetryable(error)) throw error;
        await this.policy.sleep(backoffDelayMs(this.policy, attempt));
      }
    }
  }

  delete(key: string): Promise<void> {
    return withRetry(this.policy, () => this.inner.delete(key));
  }
}
