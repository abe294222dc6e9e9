import { parseVolumeDigest } from "./hash-lines.ts";
import { volumeDigestScript } from "./helper-scripts.ts";
import { describeTarget, type ExecTarget, type PodExec } from "./pod-exec.ts";

/**
 * The whole-volume SHA-256, computed in the helper pod next to the data: the source's goes into
 * the manifest, the destination's must equal it. One exec reads the whole volume, so it gets
 * nearly all of a Lambda's 15 minutes.
 */
export async function volumeDigest(exec: PodExec, target: ExecTarget, volumeBytes: number): Promise<string> {
  const what = "whole-volume digest";
  const output = await exec.run(target, {
    script: volumeDigestScript(volumeBytes),
    what,
    timeoutMs: 14 * 60_000,
  });
  return parseVolumeDigest(output.toString("utf8"), `${describeTarget(target)}, ${what}`);
}
