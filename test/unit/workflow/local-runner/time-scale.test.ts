import { describe, expect, it } from "vitest";
import {
  type AslDefinition,
  longestTimerSeconds,
  scaleDefinition,
  timeScaleFrom,
  waitMilliseconds,
} from "../../../../functions/lib/workflow/local-runner/time-scale.ts";

describe("KUBEFERRY_TIME_SCALE", () => {
  it("defaults to real time and accepts a fraction", () => {
    expect(timeScaleFrom({})).toBe(1);
    expect(timeScaleFrom({ KUBEFERRY_TIME_SCALE: "0.01" })).toBe(0.01);
  });

  it.each(["0", "-1", "2", "fast"])("refuses %s naming the variable", (value) => {
    expect(() => timeScaleFrom({ KUBEFERRY_TIME_SCALE: value })).toThrow(
      /KUBEFERRY_TIME_SCALE must be a number in \(0, 1\]/,
    );
  });
});

describe("a scaled definition", () => {
  const definition: AslDefinition = {
    StartAt: "Fan",
    TimeoutSeconds: 3600,
    States: {
      Fan: {
        Type: "Map",
        ItemProcessor: {
          StartAt: "Work",
          States: {
            Work: {
              Type: "Task",
              Resource: "arn",
              TimeoutSeconds: 900,
              Retry: [{ ErrorEquals: ["States.ALL"], IntervalSeconds: 2, MaxDelaySeconds: 60 }],
              End: true,
            },
          },
        },
        End: true,
      },
    },
  };

  it("shrinks the execution's and every Task's timeout and Retry intervals, Map processors included", () => {
    const scaled = scaleDefinition(definition, 0.01);
    expect(scaled.TimeoutSeconds).toBe(36);
    const work = scaled.States.Fan?.ItemProcessor?.States.Work;
    expect(work?.TimeoutSeconds).toBe(9);
    expect(work?.Retry?.[0]).toMatchObject({ IntervalSeconds: 0.02, MaxDelaySeconds: 0.6 });
    expect(definition.States.Fan?.ItemProcessor?.States.Work?.TimeoutSeconds).toBe(900);
  });

  it("gives a Task without TimeoutSeconds the ASL default, bounded by what a timer can wait", () => {
    const scaled = scaleDefinition(
      { StartAt: "T", States: { T: { Type: "Task", Resource: "arn", End: true } } },
      1,
    );
    expect(scaled.States.T?.TimeoutSeconds).toBe((2 ** 31 - 1) / 1000);
  });

  it("refuses TimeoutSecondsPath, which it cannot scale, naming the state", () => {
    const dynamic: AslDefinition = {
      StartAt: "T",
      States: { T: { Type: "Task", Resource: "arn", TimeoutSecondsPath: "$.t", End: true } },
    };
    expect(() => scaleDefinition(dynamic, 0.5)).toThrow(
      /^T: TimeoutSecondsPath is supported by the local runner only on arn:aws:states:::lambda:invoke.waitForTaskToken/,
    );
  });

  it("leaves a waiting Task's TimeoutSecondsPath to its handler, which scales the wait itself", () => {
    const gate: AslDefinition = {
      StartAt: "T",
      States: {
        T: {
          Type: "Task",
          Resource: "arn:aws:states:::lambda:invoke.waitForTaskToken",
          TimeoutSecondsPath: "$.t",
          End: true,
        },
      },
    };
    const scaled = scaleDefinition(gate, 0.5).States.T;
    expect(scaled?.TimeoutSecondsPath).toBeUndefined();
    expect(scaled?.TimeoutSeconds).toBe(longestTimerSeconds);
  });
});

describe("a Wait state's scaled duration", () => {
  const now = Date.parse("2026-01-01T00:00:00Z");
  it.each([
    [{ Seconds: 30 }, {}, 300],
    [{ SecondsPath: "$.lock['retry after'][0]" }, { lock: { "retry after": [60] } }, 600],
    [{ Timestamp: "2026-01-01T00:01:40Z" }, {}, 1000],
    [{ TimestampPath: "$.until" }, { until: "2025-12-31T00:00:00Z" }, 0],
  ])("%j with input %j waits %d ms at 0.01", (fields, input, expected) => {
    expect(waitMilliseconds({ Type: "Wait", ...fields }, input, 0.01, now)).toBe(expected);
  });

  it("fails as States.Runtime when its path points to nothing", () => {
    expect(() => waitMilliseconds({ Type: "Wait", SecondsPath: "$.missing" }, {}, 1)).toThrow(
      expect.objectContaining({ name: "States.Runtime" }),
    );
  });
});
