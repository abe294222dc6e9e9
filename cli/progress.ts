import type { ExecutionEvent } from "../functions/lib/workflow/local-runner.ts";
import { formatBytes, formatDuration } from "./format.ts";
import type { Output } from "./output.ts";

type Phase = "stage" | "restore";

interface VolumeProgress {
  name: string;
  bytes: number;
  done: number;
  chunks: number;
}

interface RangeItem {
  volumes: Array<{ source: { namespace: string; pvc: string; volumeBytes: number } }>;
  item: { volume: number; range: { length: number } };
}

/** Range Map item states and the phase their progress belongs to. */
const rangeStates: Record<string, Phase> = { StageRange: "stage", RestoreRange: "restore" };
/** The Map states whose start is the start of a phase. */
const phaseStates: Record<string, Phase> = { StageRanges: "stage", RestoreRanges: "restore" };

/**
 * Turns the workflow's event log into progress a person can watch: each state as it starts,
 * and per volume the bytes staged or restored, chunks, rate and time left. On a terminal one
 * status line is redrawn; elsewhere (CI, pipes) every step and finished range is a plain line.
 */
export class ProgressReporter {
  private readonly volumes = new Map<string, VolumeProgress>();
  private readonly phaseStartedAt: Partial<Record<Phase, number>> = {};

  constructor(private readonly output: Output) {}

  handle(event: ExecutionEvent): void {
    const phase = event.state ? rangeStates[event.state] : undefined;
    if (event.type === "StateEntered" && event.state && !phase) {
      const starting = phaseStates[event.state];
      if (starting) this.phaseStartedAt[starting] = event.timestamp;
      this.output.line(`▸ ${event.state}`);
    } else if (event.type === "StateExited" && phase) {
      const output = event.output as { chunks?: number; writtenChunks?: number };
      this.rangeDone(phase, event.timestamp, event.input as RangeItem, output);
    } else if (event.type === "StateFailed" && event.state) {
      this.output.line(`✗ ${event.state}: ${event.error ?? "failed"} ${event.cause ?? ""}`.trimEnd());
    }
  }

  private rangeDone(
    phase: Phase,
    at: number,
    input: RangeItem,
    output: { chunks?: number; writtenChunks?: number },
  ) {
    const source = input.volumes[input.item.volume]?.source;
    if (!source) return;
    const key = `${phase} ${source.namespace}/${source.pvc}`;
    const progress = this.volumes.get(key) ?? { name: key, bytes: source.volumeBytes, done: 0, chunks: 0 };
    progress.done += input.item.range.length;
    progress.chunks += output.chunks ?? output.writtenChunks ?? 0;
    this.volumes.set(key, progress);

    const seconds = Math.max((at - (this.phaseStartedAt[phase] ?? at)) / 1000, 0.001);
    const rate = progress.done / seconds;
    const left = rate > 0 ? (progress.bytes - progress.done) / rate : 0;
    const text =
      `${progress.name}: ${formatBytes(progress.done)} of ${formatBytes(progress.bytes)}, ` +
      `${progress.chunks} chunks, ${formatBytes(rate)}/s, ${progress.done >= progress.bytes ? "done" : `ETA ${formatDuration(left)}`}`;
    if (this.output.interactive) this.output.status(text);
    else this.output.line(`  ${text}`);
  }
}
