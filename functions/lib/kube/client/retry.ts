import { type RetryPolicy, sleep } from "../../retry.ts";
import { KubeApiError } from "./kube-api-error.ts";

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

export const defaultKubeRetryPolicy: RetryPolicy = {
  maxAttempts: 5,
  baseDelayMs: 200,
  maxDelayMs: 10_000,
  isRetryable: isTransientKubeError,
  requestedDelayMs: (error) => {
    const seconds = error instanceof KubeApiError ? error.details.retryAfterSeconds : undefined;
    return seconds === undefined ? undefined : seconds * 1000;
  },
  sleep,
  random: Math.random,
};
