/** Which failures are worth retrying: throttling, server-side (5xx) and network errors. */

/** A failure known to be temporary that has no status code of its own (e.g. a cut download). */
export class TransientError extends Error {
  override readonly name = "TransientError";
}

const throttlingNames = new Set([
  "Throttling",
  "ThrottlingException",
  "ThrottledException",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "RequestThrottled",
  "RequestThrottledException",
  "SlowDown",
  "ProvisionedThroughputExceededException",
  "RequestTimeout",
  "RequestTimeoutException",
  // S3: a concurrent conditional write to the same key is in progress; AWS says to retry.
  "ConditionalRequestConflict",
]);

const networkCodes = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
]);

const networkNames = new Set(["TimeoutError", "AbortError", "NetworkingError"]);

export function isTransientError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error instanceof TransientError) return true;
  const details = error as Error & {
    code?: string;
    $metadata?: { httpStatusCode?: number };
    $retryable?: unknown;
  };
  const status = details.$metadata?.httpStatusCode;
  if (status !== undefined && (status >= 500 || status === 429)) return true;
  if (throttlingNames.has(error.name) || details.$retryable !== undefined) return true;
  if (networkNames.has(error.name)) return true;
  return details.code !== undefined && networkCodes.has(details.code);
}
