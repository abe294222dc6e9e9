/**
 * Step Functions' payload quota: the input and output of every state, each Map iteration's
 * input and a Map's aggregated result are at most 256 KiB, counted as the UTF-8 bytes of the
 * JSON text ("Maximum input or output size for a task, state, or execution": 262,144 bytes,
 * https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html#service-limits-task-executions).
 * Exceeding it fails the execution with States.DataLimitExceeded, a terminal error that no
 * Retry or Catch handles (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html).
 */
export const maxPayloadBytes = 262_144;

export class DataLimitExceeded extends Error {
  override readonly name = "States.DataLimitExceeded";
  // aws-local-stepfunctions reads these two flags when it matches Retry and Catch rules.
  readonly isRetryable = false;
  readonly isCatchable = false;
}

export function payloadBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? "null", "utf8");
}

/** Throws DataLimitExceeded naming `what` when `value` is over the quota. */
export function checkPayload(value: unknown, what: string): void {
  const bytes = payloadBytes(value);
  if (bytes > maxPayloadBytes) {
    throw new DataLimitExceeded(
      `${what} has a size of ${bytes} bytes, exceeding the maximum number of bytes service limit (${maxPayloadBytes})`,
    );
  }
}
