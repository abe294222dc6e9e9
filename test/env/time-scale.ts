import { timeScaleFrom } from "../../functions/lib/workflow/local-runner/time-scale.ts";

/**
 * `seconds` of modelled time (an idle cut, a latency) as milliseconds of real time, under the same
 * `KUBEFERRY_TIME_SCALE` the workflow runner applies to its timeouts: 0.05 turns 60 s into 3 s.
 */
export function scaledMs(seconds: number, env: NodeJS.ProcessEnv = process.env): number {
  return seconds * 1000 * timeScaleFrom(env);
}
