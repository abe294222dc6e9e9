import { PassThrough, Readable, Writable } from "node:stream";
import { Exec, type KubeConfig, type V1Status } from "@kubernetes/client-node";

export interface ExecResult {
  stdout: Buffer;
  stderr: string;
  /** The status the API server relays at the end of the stream ("Success" or "Failure"). */
  status: V1Status | undefined;
}

/** Runs `command` in a pod through the API server's exec endpoint, as kubeferry's transport does. */
export async function execInPod(
  kc: KubeConfig,
  pod: { namespace: string; name: string; container: string },
  command: string[],
  stdin?: Buffer,
): Promise<ExecResult> {
  const stdoutChunks: Buffer[] = [];
  const stderrChunks: Buffer[] = [];
  const collect = (chunks: Buffer[]) =>
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk);
        callback();
      },
    });
  let status: V1Status | undefined;
  let input: Readable | null = null;
  if (stdin) {
    // Feed in 1 MiB pieces, as a streaming producer would, rather than one huge frame.
    const pieces = Array.from({ length: Math.ceil(stdin.length / 2 ** 20) }, (_, i) =>
      stdin.subarray(i * 2 ** 20, (i + 1) * 2 ** 20),
    );
    input = Readable.from(pieces).pipe(new PassThrough());
  }
  const socket = await new Exec(kc).exec(
    pod.namespace,
    pod.name,
    pod.container,
    command,
    collect(stdoutChunks),
    collect(stderrChunks),
    input,
    false,
    (received) => {
      status = received;
    },
  );
  await new Promise<void>((resolve, reject) => {
    socket.on("close", () => resolve());
    socket.on("error", reject);
  });
  return {
    stdout: Buffer.concat(stdoutChunks),
    stderr: Buffer.concat(stderrChunks).toString("utf8"),
    status,
  };
}
