import type { ExecutionEvent } from "../functions/lib/workflow/local-runner.ts";
import { formatBytes, formatDuration } from "./format.ts";
import type { Output } from "./output.ts";

type Phase = "stage" | "restore";

interface PhaseProgress {
  bytes: number;
  ranges: number;
  volumes: number;
  done: number;
  rangesDone: number;
  chunks: number;
}

/** What a range Task receives: its range (the volume is named by index; its plan is in the repository). */
interface RangeTaskInput {
  item: { volume: number; range: { length: number } };
}

/** The sums PlanRanges and PrepareVolumes put in the state (their plans live in the repository). */
interface PlanSums {
  volumes: number;
  ranges: number;
  bytes: number;
}

/** Range Task states and the phase their progress belongs to. */
const rangeStates: Record<string, Phase> = { StageRange: "stage", RestoreRange: "restore" };
/** The Map states whose start is the start of a phase. */
const phaseStates: Record<string, Phase> = { StageRanges: "stage", RestoreRanges: "restore" };
/** The states whose output holds a phase's sums, and where. */
const planStates: Record<string, [Phase, "plan" | "restorePlan"]> = {
  PlanRanges: ["stage", "plan"],
  PrepareVolumes: ["restore", "restorePlan"],
};

/**
 * Turns the workflow's event log into progress a person can watch: each state as it starts,
 * and per phase the bytes staged or restored of the plan's total, ranges, chunks, rate and time
 * left. On a terminal one status line is redrawn; elsewhere (CI, pipes) every step and finished
 * range is a plain line.
 */
export class ProgressReporter {
  private readonly phases: Partial<Record<Phase, PhaseProgress>> = {};
  private readonly phaseStartedAt: Partial<Record<Phase, number>> = {};

  constructor(private readonly output: Output) {}

  handle(event: ExecutionEvent): void {
    // A nested execution's states come as "<Task>/<state>" (a cutover's syncs): their phases count too.
    const state = event.state?.slice(event.state.lastIndexOf("/") + 1);
    const phase = state ? rangeStates[state] : undefined;
    if (event.type === "StateEntered" && state && !phase) {
      const starting = phaseStates[state];
      if (starting) this.phaseStartedAt[starting] = event.timestamp;
      this.output.line(`▸ ${event.state}`);
    } else if (event.type === "StateExited" && state && planStates[state]) {
      const [planned, field] = planStates[state] as [Phase, "plan" | "restorePlan"];
      const sums = (event.output as Record<string, PlanSums | undefined> | undefined)?.[field];
      if (sums) this.phases[planned] = { ...sums, done: 0, rangesDone: 0, chunks: 0 };
    } else if (event.type === "StateExited" && phase) {
      const output = event.output as { chunks?: number; writtenChunks?: number };
      this.rangeDone(phase, event.timestamp, event.input as RangeTaskInput, output);
    } else if (event.type === "StateFailed" && event.state) {
      this.output.line(`✗ ${event.state}: ${event.error ?? "failed"} ${event.cause ?? ""}`.trimEnd());
    }
  }

  private rangeDone(
    phase: Phase,
    at: number,
    input: RangeTaskInput,
    output: { chunks?: number; writtenChunks?: number },
  ) {
    const progress = this.phases[phase];
    if (!progress) return;
    progress.done += input.item.range.length;
    progress.rangesDone += 1;
    progress.chunks += output.chunks ?? output.writtenChunks ?? 0;

    const seconds = Math.max((at - (this.phaseStartedAt[phase] ?? at)) / 1000, 0.001);
    const rate = progress.done / seconds;
    const left = rate > 0 ? (progress.bytes - progress.done) / rate : 0;
    const volumes = `${progress.volumes} volume${progress.volumes === 1 ? "" : "s"}`;
    const text =
      `${phase}: ${formatBytes(progress.done)} of ${formatBytes(progress.bytes)} ` +
      `(${progress.rangesDone} of ${progress.ranges} ranges, ${volumes}), ` +
      `${progress.chunks} chunks, ${formatBytes(rate)}/s, ${progress.done >= progress.bytes ? "done" : `ETA ${formatDuration(left)}`}`;
    if (this.output.interactive) this.output.status(text);
    else this.output.line(`  ${text}`);
  }
}
