import { createHash } from "node:crypto";
import { ExecFailed } from "../errors.ts";
import type { ClusterClient } from "../kube/client/cluster-client.ts";
import { cleanupRun } from "./cleanup.ts";
import { ensureDataMoverNamespace } from "./data-mover.ts";
import { parseHashLines } from "./hash-lines.ts";
import { type HelperPodOptions, startHelperPod } from "./helper-pod.ts";
import {
  hashChunksScript,
  readBytesScript,
  type WrittenChunks,
  writeBytesScript,
  writeZerosScript,
} from "./helper-scripts.ts";
import type { Clock } from "./kube-calls.ts";
import type { ExecTarget, PodExec } from "./pod-exec.ts";

// A scratch "device" of four whole chunks and a partial one: the probe runs the very scripts a
// run uses (exact-length reads at offsets, writes that stop on a byte count, zeroing, digests of
// whole and partial chunks), so what it proves is what a run needs, with no second list of
// features to keep in step with helper-scripts.ts.
const CHUNK_BYTES = 64 * 1024;
const PROBE_BYTES = 4 * CHUNK_BYTES + 1234;
const CHUNKS = Math.ceil(PROBE_BYTES / CHUNK_BYTES);

export interface ProbeRequest {
  /** Names the probe pod and labels it for cleanup, e.g. "probe-<pair>". */
  runId: string;
  /** The data-mover namespace, where helper pods run. */
  namespace: string;
  helper: HelperPodOptions & { image: string };
}

/**
 * Runs the helper scripts in a pod of a custom helper image, on a scratch file, and returns why
 * the image cannot serve as kubeferry's helper (undefined when it can). A run would otherwise
 * find out mid-transfer, or worse, hash what a dd without `count_bytes` read past a range.
 */
export async function probeHelperImage(
  deps: { client: ClusterClient; exec: PodExec; clock: Clock },
  request: ProbeRequest,
): Promise<string | undefined> {
  const image = request.helper.image;
  await ensureDataMoverNamespace(deps.client, request.namespace);
  try {
    const target = await startHelperPod(
      deps,
      {
        runId: request.runId,
        namespace: request.namespace,
        name: request.runId,
        readOnly: false,
        volume: `a scratch file (probe of helper image ${image})`,
        volumeBytes: PROBE_BYTES,
      },
      { ...request.helper, startTimeoutSeconds: request.helper.startTimeoutSeconds ?? 120 },
    );
    await runProbeScripts(deps.exec, target);
    return undefined;
  } catch (error) {
    // What the image's tools did; anything else (the API refusing the pod) is the caller's to report.
    if (!(error instanceof ExecFailed || error instanceof ProbeMismatch)) throw error;
    return (
      `helper image ${image} on cluster ${deps.client.name} cannot run kubeferry's scripts (${error.message}); ` +
      "it needs a POSIX sh, sha256sum, wc and a dd with iflag=skip_bytes,count_bytes,fullblock, " +
      "oflag=seek_bytes and conv=notrunc,fsync, as busybox 1.36 and GNU coreutils have"
    );
  } finally {
    await cleanupRun({ client: deps.client, clock: deps.clock }, request.runId);
  }
}

/** A probe script ran but did something other than what a run relies on. */
export class ProbeMismatch extends Error {}

/**
 * The probe proper, in a running pod: throws ProbeMismatch (or the transport's ExecFailed)
 * at the first script that does not do what a run relies on.
 */
export async function runProbeScripts(exec: PodExec, target: ExecTarget): Promise<void> {
  const data = probeData();
  // The scratch file lives in the pod's /tmp (an emptyDir); the scripts find it where they
  // find a device.
  const onScratch = (script: string) =>
    `KUBEFERRY_DEVICE=/tmp/kubeferry-probe; export KUBEFERRY_DEVICE\n${script}`;
  const all: WrittenChunks = {
    firstChunk: 0,
    chunkCount: CHUNKS,
    chunkBytes: CHUNK_BYTES,
    volumeBytes: PROBE_BYTES,
  };
  const run = async (what: string, script: string, stdin?: Buffer) =>
    (
      await exec.run(target, {
        script: onScratch(script),
        what,
        ...(stdin ? { stdin } : {}),
        timeoutMs: 60_000,
      })
    ).toString("latin1");
  const expectDigests = (what: string, output: string, image: Buffer) => {
    const found = parseHashLines(output, 0, CHUNKS, `${what} in ${target.volume}`);
    const expected = chunkDigests(image);
    const wrong = found.findIndex((digest, i) => digest !== expected[i]);
    if (wrong >= 0)
      throw new ProbeMismatch(
        `${what}: chunk ${wrong} hashes to ${found[wrong]}, expected ${expected[wrong]}`,
      );
  };

  // Writes the file from nothing (conv=notrunc writes into an empty file too), then checks it.
  expectDigests("writing", await run("writing", writeBytesScript(0, PROBE_BYTES, all), data), data);
  expectDigests("hashing", await run("hashing", hashChunksScript(0, CHUNKS, CHUNK_BYTES, PROBE_BYTES)), data);
  const offset = CHUNK_BYTES + 7;
  const length = 2 * CHUNK_BYTES + 100;
  const read = await run("reading", readBytesScript(offset, length));
  if (read !== data.subarray(offset, offset + length).toString("latin1")) {
    throw new ProbeMismatch(`reading ${length} bytes at ${offset} returned ${read.length} bytes that differ`);
  }
  const zeroed = Buffer.from(data);
  zeroed.fill(0, CHUNK_BYTES, 2 * CHUNK_BYTES);
  expectDigests("zeroing", await run("zeroing", writeZerosScript(CHUNK_BYTES, CHUNK_BYTES, all)), zeroed);
  // Where /tmp outlives the pod (exec on a host, as on the local clusters), leave nothing there.
  await run("removing the scratch file", 'command -v rm >/dev/null 2>&1 && rm -f "$KUBEFERRY_DEVICE"; true');
}

function probeData(): Buffer {
  const data = Buffer.alloc(PROBE_BYTES);
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
  return data;
}

function chunkDigests(image: Buffer): string[] {
  return Array.from({ length: CHUNKS }, (_, i) =>
    createHash("sha256")
      .update(image.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES))
      .digest("hex"),
  );
}
