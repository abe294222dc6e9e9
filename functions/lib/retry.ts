/**
 * Bounded retries with exponential backoff and full jitter, shared by every client that talks
 * to a server (blob stores, Kubernetes API servers): each says what is worth retrying and
 * whether the server asked for a specific wait.
 */
export interface RetryPolicy {
  /** Total tries including the first. */
  maxAttempts: number;
  baseDelayMs: number;
  /** Upper bound of any wait, a server's Retry-After included: a run must not stall on one call. */
  maxDelayMs: number;
  isRetryable: (error: unknown) => boolean;
  /** The wait the server asked for (e.g. Retry-After), if any. */
  requestedDelayMs?: (error: unknown) => number | undefined;
  sleep: (ms: number) => Promise<void>;
  /** A number in [0, 1); injectable so tests can pin the jitter. */
  random: () => number;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Full jitter: a uniform delay up to the exponential bound, so retrying clients spread out. */
export function backoffDelayMs(policy: RetryPolicy, failedAttempts: number): number {
  const bound = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (failedAttempts - 1));
  return Math.floor(policy.random() * bound);
}

/** The server's requested wait when it gave one, else the jittered backoff; both bounded. */
export function retryDelayMs(policy: RetryPolicy, error: unknown, failedAttempts: number): number {
  const requested = policy.requestedDelayMs?.(error);
  if (requested !== undefined) return Math.min(policy.maxDelayMs, requested);
  return backoffDelayMs(policy, failedAttempts);
}

export async function withRetry<T>(policy: RetryPolicy, operation: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (attempt >= policy.maxAttempts || !policy.isRetryable(error)) throw error;
      await policy.sleep(retryDelayMs(policy, error, attempt));
    }
  }
}
