/**
 * A Kubernetes API call failed: the server answered with an error status, or could not be
 * reached. The message names the cluster, the call and the server's own reason.
 */
export class KubeApiError extends Error {
  override readonly name = "KubeApiError";

  constructor(
    message: string,
    readonly details: {
      cluster: string;
      /** HTTP status; absent when the server was not reached. */
      status?: number;
      /** The Status object's reason ("AlreadyExists", "Forbidden", …) or the network error code. */
      reason?: string;
      /** Seconds the server asked to wait (Retry-After), if it did. */
      retryAfterSeconds?: number;
    },
    options?: ErrorOptions,
  ) {
    super(message, options);
  }

  get status(): number | undefined {
    return this.details.status;
  }
}

export function isNotFound(error: unknown): boolean {
  return error instanceof KubeApiError && error.status === 404;
}
