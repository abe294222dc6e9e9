import { resolveReferencePath } from "./reference-path.ts";
import { lambdaWaitForTaskToken } from "./service-integrations.ts";

/**
 * A time scale shrinks every duration the workflow waits for — Task and execution timeouts,
 * Retry intervals, Wait states, function timeouts — so that a test can watch a 900 s limit
 * bite in a few seconds. 1 is real time.
 */
export function timeScaleFrom(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.KUBEFERRY_TIME_SCALE;
  if (text === undefined || text === "") return 1;
  const scale = Number(text);
  if (!Number.isFinite(scale) || scale <= 0 || scale > 1) {
    throw new RangeError(`KUBEFERRY_TIME_SCALE must be a number in (0, 1], e.g. 0.01 (got "${text}")`);
  }
  return scale;
}

// A Task without TimeoutSeconds may run 99999999 s and then fails with States.Timeout, which
// Retry and Catch match (https://docs.aws.amazon.com/step-functions/latest/dg/state-task.html);
// setTimeout cannot wait longer than this.
export const longestTimerSeconds = (2 ** 31 - 1) / 1000;
const defaultTaskTimeoutSeconds = 99_999_999;
const defaultRetryIntervalSeconds = 1;

export type AslDefinition = { States: Record<string, AslState>; TimeoutSeconds?: number } & Record<
  string,
  unknown
>;
export type AslState = {
  Type: string;
  Resource?: string;
  ItemProcessor?: AslDefinition;
  Iterator?: AslDefinition;
  Branches?: AslDefinition[];
  Retry?: Array<Record<string, unknown>>;
} & Record<string, unknown>;

/**
 * A copy of the definition with every timeout and Retry interval scaled. Wait states keep their
 * fields: their duration can depend on the input, so the runner computes it as each is entered
 * (`waitMilliseconds`).
 */
export function scaleDefinition(definition: AslDefinition, scale: number): AslDefinition {
  const states = Object.fromEntries(
    Object.entries(definition.States).map(([name, state]) => [name, scaleState(name, state, scale)]),
  );
  return {
    ...definition,
    States: states,
    ...(definition.TimeoutSeconds !== undefined && {
      TimeoutSeconds: scaled(definition.TimeoutSeconds, scale),
    }),
  };
}

function scaleState(name: string, state: AslState, scale: number): AslState {
  // A waiting Task's handler times its wait itself (service-integrations.ts); no other Task's can.
  const timesItself = state.Resource === lambdaWaitForTaskToken;
  if (state.TimeoutSecondsPath !== undefined && !timesItself) {
    throw new Error(
      `${name}: TimeoutSecondsPath is supported by the local runner only on ${lambdaWaitForTaskToken}; use TimeoutSeconds`,
    );
  }
  const copy: AslState = { ...state };
  if (state.Type === "Task") {
    delete copy.TimeoutSecondsPath;
    copy.TimeoutSeconds =
      state.TimeoutSecondsPath !== undefined
        ? longestTimerSeconds
        : scaled((state.TimeoutSeconds as number | undefined) ?? defaultTaskTimeoutSeconds, scale);
  }
  if (state.Retry) {
    copy.Retry = state.Retry.map((retrier) => ({
      ...retrier,
      IntervalSeconds:
        ((retrier.IntervalSeconds as number | undefined) ?? defaultRetryIntervalSeconds) * scale,
      ...(retrier.MaxDelaySeconds !== undefined && {
        MaxDelaySeconds: (retrier.MaxDelaySeconds as number) * scale,
      }),
    }));
  }
  if (state.ItemProcessor) copy.ItemProcessor = scaleDefinition(state.ItemProcessor, scale);
  if (state.Iterator) copy.Iterator = scaleDefinition(state.Iterator, scale);
  if (state.Branches) copy.Branches = state.Branches.map((branch) => scaleDefinition(branch, scale));
  return copy;
}

function scaled(seconds: number, scale: number): number {
  return Math.min(seconds * scale, longestTimerSeconds);
}

/** How long a Wait state entered with `input` pauses, scaled (Seconds, SecondsPath, Timestamp, TimestampPath). */
export function waitMilliseconds(state: AslState, input: unknown, scale: number, now = Date.now()): number {
  const effective =
    typeof state.InputPath === "string" ? resolveReferencePath(state.InputPath, input) : input;
  let milliseconds: number;
  if (typeof state.Seconds === "number") milliseconds = state.Seconds * 1000;
  else if (typeof state.SecondsPath === "string") {
    milliseconds = Number(resolveReferencePath(state.SecondsPath, effective)) * 1000;
  } else {
    const timestamp =
      typeof state.Timestamp === "string"
        ? state.Timestamp
        : String(resolveReferencePath(String(state.TimestampPath), effective));
    milliseconds = Date.parse(timestamp) - now;
  }
  return Math.max(0, Math.min(milliseconds * scale, longestTimerSeconds * 1000));
}
