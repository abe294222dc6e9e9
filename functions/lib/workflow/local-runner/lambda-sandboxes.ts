import { randomUUID } from "node:crypto";
import type { Writable } from "node:stream";
import { Worker } from "node:worker_threads";

/**
 * Local Lambda: each function's deployed bundle runs in sandboxes of its own (a worker thread
 * each, with the function's environment and a heap bounded by its memory size), reused warm
 * one invocation at a time as Lambda reuses an execution environment, and as many as there are
 * concurrent invocations (a Map's iterations).
 *
 * A function that runs past its timeout fails as Lambda reports it — error type
 * `Sandbox.Timedout`, "Task timed out after N seconds"
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html) — and, as in Lambda,
 * its work is not cancelled: the invocation goes on in the background, and its sandbox is
 * discarded once it returns instead of serving another invocation. A function that runs out
 * of its memory size (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html;
 * here the worker's heap limit) fails with `Runtime.OutOfMemory` and its sandbox is discarded.
 */
export interface SandboxedFunction {
  name: string;
  bundle: string;
  handlerExport: string;
  timeoutSeconds: number;
  memoryMiB: number;
  environment: Record<string, string>;
}

/** A function error as the Lambda Invoke API reports it: the type is the error's name. */
export class FunctionError extends Error {
  constructor(
    readonly errorType: string,
    readonly errorMessage: string,
    trace: string[] = [],
  ) {
    // Step Functions' Cause for a Lambda error is the error payload as JSON.
    super(JSON.stringify({ errorType, errorMessage, trace }));
    this.name = errorType;
  }
}

interface Reply {
  requestId: string;
  result?: unknown;
  error?: { errorType: string; errorMessage: string; trace: string[] };
}

class Sandbox {
  busy = false;
  retired = false;
  private readonly worker: Worker;
  private readonly ready: Promise<void>;
  private readonly pending = new Map<string, (reply: Reply) => void>();

  constructor(
    private readonly fn: SandboxedFunction,
    log: Writable | undefined,
  ) {
    this.worker = new Worker(new URL("./lambda-runtime.ts", import.meta.url), {
      workerData: {
        bundle: fn.bundle,
        handlerExport: fn.handlerExport,
        functionName: fn.name,
        memoryLimitInMB: fn.memoryMiB,
      },
      env: { ...lambdaRuntimeVariables(fn), ...fn.environment },
      resourceLimits: { maxOldGenerationSizeMb: fn.memoryMiB },
      stdout: true,
      stderr: true,
    });
    for (const stream of [this.worker.stdout, this.worker.stderr]) {
      if (log) stream.pipe(log, { end: false });
      else stream.resume();
    }
    this.ready = new Promise((resolve, reject) => {
      this.worker.once("message", () => resolve());
      this.worker.once("error", reject);
    });
    this.ready.catch(() => {});
    this.worker.on("message", (reply: Reply) => this.pending.get(reply.requestId)?.(reply));
    this.worker.on("error", (error) => this.fail(crashType(error), error.message));
    this.worker.on("exit", (code) => this.fail("Runtime.ExitError", `the runtime exited with code ${code}`));
  }

  async invoke(event: unknown, scale: number): Promise<unknown> {
    this.busy = true;
    this.worker.ref();
    const requestId = randomUUID();
    const timeoutMs = this.fn.timeoutSeconds * 1000 * scale;
    const replied = new Promise<Reply>((resolve) => this.pending.set(requestId, resolve));
    let timer: NodeJS.Timeout | undefined;
    // As in Lambda, the function's timeout counts from the end of its initialization (the bundle's import).
    const timedOut = () =>
      new Promise<Reply>((resolve) => {
        timer = setTimeout(() => {
          this.retired = true;
          resolve({
            requestId,
            error: {
              errorType: "Sandbox.Timedout",
              errorMessage: `RequestId: ${requestId} Error: Task timed out after ${this.fn.timeoutSeconds.toFixed(2)} seconds`,
              trace: [],
            },
          });
        }, timeoutMs);
      });
    replied.then(() => this.finished(requestId));
    try {
      await this.ready;
      this.worker.postMessage({ requestId, event, deadline: Date.now() + timeoutMs });
      const reply = await Promise.race([replied, timedOut()]);
      if (reply.error)
        throw new FunctionError(reply.error.errorType, reply.error.errorMessage, reply.error.trace);
      return reply.result;
    } catch (error) {
      if (error instanceof FunctionError) throw error;
      this.retired = true;
      throw new FunctionError(crashType(error), (error as Error).message);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The invocation really ended (in time or, after a timeout, in the background). */
  private finished(requestId: string): void {
    this.pending.delete(requestId);
    this.busy = false;
    if (this.retired) void this.worker.terminate();
    else this.worker.unref();
  }

  private fail(errorType: string, message: string): void {
    this.retired = true;
    for (const [requestId, resolve] of this.pending) {
      resolve({ requestId, error: { errorType, errorMessage: message, trace: [] } });
    }
  }

  terminate(): Promise<number> {
    this.retired = true;
    return this.worker.terminate();
  }
}

/** What Lambda's runtime sets in every function's environment, as far as a local sandbox has it. */
function lambdaRuntimeVariables(fn: SandboxedFunction): Record<string, string> {
  return {
    AWS_LAMBDA_FUNCTION_NAME: fn.name,
    AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMiB),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.name}`,
  };
}

function crashType(error: unknown): string {
  const code = (error as { code?: string }).code;
  return code === "ERR_WORKER_OUT_OF_MEMORY"
    ? "Runtime.OutOfMemory"
    : (error as Error).name || "Runtime.Unknown";
}

export class LambdaSandboxes {
  private readonly sandboxes = new Map<string, Sandbox[]>();
  /** Every sandbox started, retired ones included: a timed-out invocation may still run in one. */
  private readonly started = new Set<Sandbox>();

  constructor(
    private readonly functions: Record<string, SandboxedFunction>,
    private readonly options: { timeScale?: number; log?: Writable } = {},
  ) {}

  async invoke(name: string, event: unknown): Promise<unknown> {
    const fn = this.functions[name];
    if (!fn) throw new FunctionError("ResourceNotFoundException", `Function not found: ${name}`);
    const warm = (this.sandboxes.get(name) ?? []).filter((sandbox) => !sandbox.retired);
    let sandbox = warm.find((candidate) => !candidate.busy);
    if (!sandbox) {
      sandbox = new Sandbox(fn, this.options.log);
      warm.push(sandbox);
      this.started.add(sandbox);
    }
    this.sandboxes.set(name, warm);
    return sandbox.invoke(event, this.options.timeScale ?? 1);
  }

  /** Ends every sandbox, also those still running a timed-out invocation. */
  async close(): Promise<void> {
    const all = [...this.started];
    this.sandboxes.clear();
    this.started.clear();
    await Promise.all(all.map((sandbox) => sandbox.terminate()));
  }
}
