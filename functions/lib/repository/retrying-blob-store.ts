import { type RetryPolicy, retryDelayMs, sleep, withRetry } from "../retry.ts";
import type { BlobInfo, BlobStore } from "./blob-store.ts";
import { isTransientError } from "./transient-errors.ts";

export const defaultRetryPolicy: RetryPolicy = {
  maxAttempts: 6,
  baseDelayMs: 100,
  maxDelayMs: 10_000,
  isRetryable: isTransientError,
  sleep,
  random: Math.random,
};

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
        await this.policy.sleep(retryDelayMs(this.policy, error, attempt));
      }
    }
  }

  delete(key: string): Promise<void> {
    return withRetry(this.policy, () => this.inner.delete(key));
  }
}
