import { Readable, Writable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { Exec, type KubeConfig, type V1Status } from "@kubernetes/client-node";
import { ExecFailed } from "../errors.ts";
import { DEFAULT_PROGRESS_SECONDS, withoutProgress, withProgress } from "./exec-progress.ts";

/** A container to run helper scripts in, and the volume it serves (for error messages). */
export interface ExecTarget {
  /** Cluster name, for messages. */
  cluster: string;
  namespace: string;
  pod: string;
  container: string;
  /** What the pod serves, e.g. "PVC shop/data (snapshot kf-…)". */
  volume: string;
}

export interface ScriptRun {
  script: string;
  /** What the script works on, e.g. "bytes 0-4194303", for messages. */
  what: string;
  /** Exact bytes fed to the script's stdin; scripts read exactly this many and never wait for EOF. */
  stdin?: Uint8Array;
  /** Per attempt; the default suits one chunk batch (minutes, not seconds, on a busy node). */
  timeoutMs?: number;
}

/** Runs scripts in helper pods. An interface so that tests can count and cut streams. */
export interface PodExec {
  run(target: ExecTarget, run: ScriptRun): Promise<Buffer>;
}

export interface CommandOutcome {
  /** Exit status; undefined when the command did not finish (timeout, dropped stream). */
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  /** Why there is no exit status, or the API's failure reason when it is not an exit code. */
  problem?: string;
}

/** Runs an application's own command (a hook) once, reporting whatever happened. */
export interface CommandExec {
  runCommand(
    target: Omit<ExecTarget, "volume">,
    command: string[],
    timeoutMs: number,
  ): Promise<CommandOutcome>;
}

export function describeTarget(target: ExecTarget): string {
  return `pod ${target.namespace}/${target.pod} (cluster ${target.cluster}, ${target.volume})`;
}

/** The connection ended without an exit status (dropped, reset, timed out): safe to retry. */
class StreamDropped extends Error {}

const STDIN_FRAME = 256 * 1024;

export interface ExecRetry {
  attempts: number;
  baseDelayMs: number;
}

export interface KubeExecOptions {
  /** Default: 4 attempts from 250 ms. */
  retry?: ExecRetry;
  /** How often a running script prints a progress line (default DEFAULT_PROGRESS_SECONDS). */
  progressSeconds?: number;
}

/**
 * The exec transport over the Kubernetes API (`sh -c <script>` in the helper container).
 * Success means exit status 0 and empty stderr (helper scripts keep dd quiet with status=none,
 * so anything on stderr is a failure a pipeline's exit status may have hidden). A non-zero exit
 * is not retried: scripts are deterministic, so it would fail again. A stream that ends without
 * an exit status is retried with jittered backoff: every script is idempotent. Scripts run with a
 * progress loop (exec-progress.ts), so no idle timeout on the way cuts a long pass.
 */
export class KubeExec implements PodExec, CommandExec {
  private readonly exec: Exec;
  private readonly retry: ExecRetry;
  private readonly progressSeconds: number;

  constructor(kubeConfig: KubeConfig, options: KubeExecOptions = {}) {
    this.exec = new Exec(kubeConfig);
    this.retry = options.retry ?? { attempts: 4, baseDelayMs: 250 };
    this.progressSeconds = options.progressSeconds ?? DEFAULT_PROGRESS_SECONDS;
  }

  async run(target: ExecTarget, run: ScriptRun): Promise<Buffer> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once(target, run);
      } catch (error) {
        if (!(error instanceof StreamDropped)) throw error;
        if (attempt >= this.retry.attempts) {
          throw new ExecFailed(
            `${describeTarget(target)}, ${run.what}: the exec stream dropped ${attempt} times (${error.message}); ` +
              "check that the pod is Running and the API server reachable, then rerun the step",
            { cause: error },
          );
        }
        await sleep(this.retry.baseDelayMs * 2 ** (attempt - 1) * (0.5 + Math.random()));
      }
    }
  }

  /** Hooks are not retried: an application's command need not be idempotent. */
  async runCommand(
    target: Omit<ExecTarget, "volume">,
    command: string[],
    timeoutMs: number,
  ): Promise<CommandOutcome> {
    try {
      const { status, stdout, stderr } = await this.stream(target, command, undefined, timeoutMs);
      const outcome = { stdout: stdout.toString("utf8"), stderr: stderr.toString("utf8") };
      if (status.status === "Success") return { exitCode: 0, ...outcome };
      const code = exitCodeOf(status);
      return code === undefined
        ? {
            exitCode: undefined,
            problem: `${status.reason ?? "Failure"}: ${status.message ?? ""}`,
            ...outcome,
          }
        : { exitCode: code, ...outcome };
    } catch (error) {
      if (error instanceof StreamDropped)
        return { exitCode: undefined, stdout: "", stderr: "", problem: error.message };
      throw error;
    }
  }

  private async once(target: ExecTarget, run: ScriptRun): Promise<Buffer> {
    const { status, stdout, stderr } = await this.stream(
      target,
      ["sh", "-c", withProgress(run.script, this.progressSeconds)],
      run.stdin,
      run.timeoutMs ?? 600_000,
    );
    const errText = withoutProgress(stderr.toString("utf8")).trim();
    if (status.status !== "Success" || errText !== "") {
      throw new ExecFailed(
        `${describeTarget(target)}, ${run.what}: the helper command failed (${exitOf(status)})` +
          (errText ? `: ${errText.slice(0, 2000)}` : "") +
          "; fix the cause in the pod or its volume, then rerun the step",
      );
    }
    return stdout;
  }

  /** One exec: resolves with the exit status once the stream closes; StreamDropped without one. */
  private async stream(
    target: Omit<ExecTarget, "volume">,
    command: string[],
    stdinData: Uint8Array | undefined,
    timeoutMs: number,
  ): Promise<{ status: V1Status; stdout: Buffer; stderr: Buffer }> {
    const stdout = new Collector();
    const stderr = new Collector();
    let status: V1Status | undefined;
    const stdin = stdinData === undefined ? null : unendedStdin(stdinData);
    let socket: Awaited<ReturnType<Exec["exec"]>>;
    try {
      socket = await this.exec.exec(
        target.namespace,
        target.pod,
        target.container,
        command,
        stdout,
        stderr,
        stdin,
        false,
        (s) => {
          status = s;
        },
      );
    } catch (error) {
      throw new StreamDropped(`cannot open the exec stream: ${messageOf(error)}`);
    }
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.terminate();
        reject(new StreamDropped(`no exit status after ${timeoutMs} ms`));
      }, timeoutMs);
      socket.on("close", () => {
        clearTimeout(timer);
        stdin?.destroy();
        resolve();
      });
    });
    if (status === undefined) throw new StreamDropped("the stream closed without an exit status");
    return { status, stdout: stdout.buffer(), stderr: stderr.buffer() };
  }
}

/**
 * The script's stdin: its bytes, and no end. Ending stdin is a half-close only on
 * v5.channel.k8s.io; on v4 (API servers before 1.30, many proxies) the client closes the whole
 * WebSocket, and the exit status never arrives. Scripts stop on exact byte counts instead.
 */
function unendedStdin(data: Uint8Array): Readable {
  const stdin = new Readable({ read() {} });
  for (const frame of frames(data)) stdin.push(frame);
  return stdin;
}

function* frames(data: Uint8Array): Generator<Buffer> {
  for (let offset = 0; offset < data.length; offset += STDIN_FRAME) {
    yield Buffer.from(data.buffer, data.byteOffset + offset, Math.min(STDIN_FRAME, data.length - offset));
  }
}

/**
 * The kubelet reports a non-zero exit as reason NonZeroExitCode with an ExitCode cause; other
 * exec servers (KWOK's, some runtimes' shims) send an InternalError whose message ends in
 * "exit status N". Both are an exit status, not a transport problem.
 */
function exitCodeOf(status: V1Status): number | undefined {
  const code = status.details?.causes?.find((c) => c.reason === "ExitCode")?.message;
  if (code !== undefined) return Number(code);
  const fromMessage = /exit status (\d+)\s*$/.exec(status.message ?? "")?.[1];
  return fromMessage === undefined ? undefined : Number(fromMessage);
}

function exitOf(status: V1Status): string {
  if (status.status === "Success") return "exit status 0 but output on stderr";
  const code = exitCodeOf(status);
  return code === undefined
    ? `${status.reason ?? "Failure"}: ${status.message ?? "no message"}`
    : `exit status ${code}`;
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  // The ws library rejects with an ErrorEvent whose message carries the reason.
  if (typeof error === "object" && error !== null && "message" in error) return String(error.message);
  return String(error);
}

/** Collects a stream in memory; writes complete synchronously, so nothing is pending at close. */
class Collector extends Writable {
  private readonly parts: Buffer[] = [];

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.parts.push(chunk);
    callback();
  }

  buffer(): Buffer {
    return Buffer.concat(this.parts);
  }
}
