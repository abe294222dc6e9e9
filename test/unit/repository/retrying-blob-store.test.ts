import { describe, expect, it } from "vitest";
import type { BlobInfo } from "../../../functions/lib/repository/blob-store.ts";
import { FilesystemBlobStore } from "../../../functions/lib/repository/filesystem-blob-store.ts";
import {
  defaultRetryPolicy,
  RetryingBlobStore,
} from "../../../functions/lib/repository/retrying-blob-store.ts";
import { isTransientError, TransientError } from "../../../functions/lib/repository/transient-errors.ts";
import { backoffDelayMs } from "../../../functions/lib/retry.ts";
import { tempDirectory } from "./fixtures.ts";

const awsError = (name: string, httpStatusCode: number) =>
  Object.assign(new Error(name), { name, $metadata: { httpStatusCode } });
const networkError = (code: string) => Object.assign(new Error(`socket: ${code}`), { code });

/** A store whose operations fail with the queued errors before succeeding. */
class FlakyBlobStore extends FilesystemBlobStore {
  calls = 0;
  constructor(
    root: string,
    private readonly failures: unknown[],
  ) {
    super(root);
  }

  override async get(key: string): Promise<Buffer | undefined> {
    this.calls++;
    const failure = this.failures.shift();
    if (failure !== undefined) throw failure;
    return super.get(key);
  }

  /** Fails once after yielding `failAfter` entries. */
  failAfter = -1;
  override async *list(prefix: string): AsyncIterable<BlobInfo> {
    this.calls++;
    let yielded = 0;
    for await (const info of super.list(prefix)) {
      if (yielded++ === this.failAfter) {
        this.failAfter = -1;
        throw networkError("ECONNRESET");
      }
      yield info;
    }
  }
}

function recordingSleep() {
  const delays: number[] = [];
  return { delays, sleep: async (ms: number) => void delays.push(ms) };
}

describe("retrying blob store", () => {
  it("retries throttling, 5xx and network errors with growing, jittered delays", async () => {
    const flaky = new FlakyBlobStore(await tempDirectory(), [
      awsError("SlowDown", 503),
      awsError("InternalError", 500),
      networkError("ECONNRESET"),
    ]);
    await flaky.put("key", Buffer.from("value"));
    const { delays, sleep } = recordingSleep();
    const store = new RetryingBlobStore(flaky, { sleep, random: () => 0.5, baseDelayMs: 100 });
    expect((await store.get("key"))?.toString()).toBe("value");
    expect(flaky.calls).toBe(4);
    expect(delays).toEqual([50, 100, 200]);
  });

  it("gives up after the last attempt with the last error", async () => {
    const failures = Array.from({ length: 10 }, () => awsError("ThrottlingException", 400));
    const flaky = new FlakyBlobStore(await tempDirectory(), failures);
    const store = new RetryingBlobStore(flaky, { maxAttempts: 3, sleep: recordingSleep().sleep });
    await expect(store.get("key")).rejects.toThrow("ThrottlingException");
    expect(flaky.calls).toBe(3);
  });

  it("does not retry errors that will not go away", async () => {
    const flaky = new FlakyBlobStore(await tempDirectory(), [awsError("AccessDenied", 403)]);
    const store = new RetryingBlobStore(flaky, { sleep: recordingSleep().sleep });
    await expect(store.get("key")).rejects.toThrow("AccessDenied");
    expect(flaky.calls).toBe(1);
  });

  it("resumes a listing that failed midway without repeating entries", async () => {
    const flaky = new FlakyBlobStore(await tempDirectory(), []);
    for (const key of ["a", "b", "c", "d"]) await flaky.put(key, Buffer.from(key));
    flaky.failAfter = 2;
    const store = new RetryingBlobStore(flaky, { sleep: recordingSleep().sleep });
    const keys: string[] = [];
    for await (const info of store.list("")) keys.push(info.key);
    expect(keys).toEqual(["a", "b", "c", "d"]);
    expect(flaky.calls).toBe(2);
  });

  it("bounds full-jitter delays by the exponential curve and the maximum", () => {
    const policy = { ...defaultRetryPolicy, baseDelayMs: 100, maxDelayMs: 1000, random: () => 0.999 };
    expect([1, 2, 3, 4, 5, 9].map((attempt) => backoffDelayMs(policy, attempt))).toEqual([
      99, 199, 399, 799, 999, 999,
    ]);
    expect(backoffDelayMs({ ...policy, random: () => 0 }, 5)).toBe(0);
  });

  it("classifies transient errors", () => {
    expect(isTransientError(awsError("ServiceUnavailable", 503))).toBe(true);
    expect(isTransientError(awsError("TooManyRequestsException", 429))).toBe(true);
    expect(isTransientError(awsError("ConditionalRequestConflict", 409))).toBe(true);
    expect(isTransientError(networkError("ETIMEDOUT"))).toBe(true);
    expect(isTransientError(new TransientError("cut download"))).toBe(true);
    expect(isTransientError(awsError("NoSuchBucket", 404))).toBe(false);
    expect(isTransientError(awsError("PreconditionFailed", 412))).toBe(false);
    expect(isTransientError(new Error("bug"))).toBe(false);
  });
});
