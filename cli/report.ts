import type { CutoverResult } from "../functions/lib/workflow/cutover/result.ts";
import type { RunResult, VolumeReport } from "../functions/lib/workflow/run-result.ts";
import { formatBytes, formatDuration } from "./format.ts";
import { table } from "./output.ts";

/** The final report of a run: status, objects by status, volumes with bytes moved and verification. */
export function runReport(result: RunResult): string {
  const lines = [
    `run ${result.runId ?? "(rejected)"} on pair ${result.pair ?? "?"}: ${result.status} in ${formatDuration(result.durationSeconds)}`,
  ];
  const objects = Object.entries(result.objects);
  if (objects.length > 0) {
    lines.push(
      "",
      table(
        ["OBJECTS", "COUNT"],
        objects.map(([status, count]) => [status, count]),
      ),
    );
  }
  if (result.volumes.length > 0) {
    lines.push("", volumeTable(result.volumes));
    const more = result.volumeCount - result.volumes.length;
    if (more > 0)
      lines.push(`… and ${more} more verified volumes (\`kubeferry status ${result.runId}\` lists each)`);
  }
  if (result.error) lines.push("", `error: ${result.error}`);
  return lines.join("\n");
}

function volumeTable(volumes: readonly VolumeReport[]): string {
  return table(
    ["VOLUME", "SIZE", "STAGED", "WRITTEN", "VERIFIED"],
    volumes.map((volume) => [
      `${volume.namespace}/${volume.name}`,
      formatBytes(volume.bytes),
      formatBytes(volume.bytesStaged),
      formatBytes(volume.bytesWritten),
      volume.verified ? "yes" : "NO",
    ]),
  );
}

/** A cutover's report: how it ended, the measured downtime, the final sync's verified volumes, the source's state. */
export function cutoverReport(result: CutoverResult): string {
  const lines = [
    `cutover ${result.runId ?? "(rejected)"} on pair ${result.pair ?? "?"}: ${result.status} in ${formatDuration(result.durationSeconds)}`,
  ];
  if (result.downtimeSeconds !== null) {
    lines.push(
      `downtime ${result.downtimeSeconds.toFixed(1)}s: source quiesced at ${result.quiescedAt}, destination ready at ${result.readyAt}`,
    );
  }
  if (result.volumes.length > 0)
    lines.push("", `final sync ${result.finalSyncRunId}:`, volumeTable(result.volumes));
  if (result.sourceResumed) lines.push("", "the source was started again; the destination is in standby");
  if (result.error) lines.push("", `error: ${result.error}`);
  return lines.join("\n");
}

/** The CLI's promise: exit 0 only for a Successful run. */
export function exitCodeOf(result: Pick<RunResult | CutoverResult, "status">): number {
  return result.status === "Successful" ? 0 : 1;
}
