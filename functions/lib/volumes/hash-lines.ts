import { ExecFailed } from "../errors.ts";

const LINE = /^(0|[1-9][0-9]*) ([0-9a-f]{64})$/;

/**
 * Parses the output of a hash script: exactly one `<chunk index> <sha256 hex>` line per chunk of
 * [firstChunk, firstChunk+chunkCount), in order, each ending in a newline. Anything else — a
 * malformed, missing, extra or out-of-order line, a truncated last line — is an error, never a
 * skip: a skipped chunk would silently be missing from the volume.
 *
 * `where` names the pod, volume and byte range for the error message.
 */
export function parseHashLines(
  output: string,
  firstChunk: number,
  chunkCount: number,
  where: string,
): string[] {
  const fail = (reason: string): never => {
    throw new ExecFailed(
      `${where}: hash output is malformed (${reason}); the helper pod's sha256sum/dd output is not ` +
        "what kubeferry expects — check the helper image",
    );
  };
  if (chunkCount === 0) {
    if (output !== "") fail(`expected no lines, got ${JSON.stringify(output.slice(0, 80))}`);
    return [];
  }
  if (!output.endsWith("\n")) fail("the last line is not terminated (stream cut short?)");
  const lines = output.slice(0, -1).split("\n");
  if (lines.length !== chunkCount) fail(`expected ${chunkCount} lines, got ${lines.length}`);
  return lines.map((line, i) => {
    const match = LINE.exec(line);
    if (!match) return fail(`line ${i + 1} is ${JSON.stringify(line.slice(0, 100))}`);
    const index = Number(match[1]);
    if (index !== firstChunk + i)
      fail(`line ${i + 1} is for chunk ${index}, expected chunk ${firstChunk + i}`);
    return match[2] as string;
  });
}
