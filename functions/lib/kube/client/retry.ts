import { KubeApiError } from "./kube-api-error.ts";

export interface KubeRetryPolicy {
  /** Total tries including the first. */
  maxAttempts: number;
  baseDelayMs: number;
  /** Upper bound of any wait, Retry-After included: a run must not stall on one call. */
  maxDelayMs: number;
  sleep: (ms: number) => Promise<void>;
  /** A number in [0, 1); injectable so tests can pin the jitter. */
  random: () => number;
}

export const defaultKubeRetryPolicy: KubeRetryPolicy = {
  maxAttempts: 5,
  baseDelayMs: 200,
  maxDelayMs: 10_000,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
};

/** Connection failures that happen to healthy servers (restarts, idle keep-alive sockets). */
const TRANSIENT_NETWORK_CODES = new Set(["ECONNRESET", "EPIPE", "ETIMEDOUT"]);

/**
 * Worth another try: server errors (5xx), throttling (429) and dropped connections. A refused
 * connection or a 4xx answer will not change by waiting, so it fails at once.
 */
export function isTransientKubeError(error: unknown): boolean {
  if (!(error instanceof KubeApiError)) return false;
  const { status, reason } = error.details;
  if (status !== undefined) return status >= 500 || status === 429;
  return reason !== undefined && TRANSIENT_NETWORK_CODES.has(reason);
}

/** Retry-After when the server sent it, else exponential backoff with full jitter; both bounded. */
export function retryDelayMs(policy: KubeRetryPolicy, error: unknown, failedAttempts: number): number {
  const retryAfter = error instanceof KubeApiError ? error.details.retryAfterSeconds : undefined;
  if (retryAfter !== undefined) return Math.min(policy.maxDelayMs, retryAfter * 1000);
  const bound = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (failedAttempts - 1));
  return Math.floor(policy.random() * bound);
}

export async function withKubeRetry<T>(policy: KubeRetryPolicy, call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= policy.maxAttempts || !isTransientKubeError(error)) throw error;
      await policy.sleep(retryDelayMs(policy, error, attempt));
    }
  }
}
