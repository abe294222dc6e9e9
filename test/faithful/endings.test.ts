import { afterEach, describe, expect, it } from "vitest";
import {
  type ExecutionEnding,
  executionEndingSchema,
} from "../../functions/lib/workflow/execution-ending.ts";
import { maxPayloadBytes } from "../../functions/lib/workflow/local-runner/payload-limit.ts";
import { localStateMachineArn } from "../../functions/lib/workflow/local-runner.ts";
import { closeSandboxes, fn, runMachine } from "./local-machine.ts";

afterEach(closeSandboxes);

const SCALE = 0.01;
const input = { pair: "p", namespaces: ["shop"] };
const slowTask = {
  StartAt: "Slow",
  States: {
    Slow: {
      Type: "Task",
      Resource: fn("slow"),
      Parameters: { seconds: 3 },
      TimeoutSeconds: 900,
      Catch: [{ ErrorEquals: ["States.ALL"], Next: "Caught" }],
      End: true,
    },
    Caught: { Type: "Pass", End: true },
  },
};

/** Runs a definition with a compensation that records the status-change events it is given. */
async function runRecorded(
  definition: object,
  options: Parameters<typeof runMachine>[2] = { timeScale: SCALE },
) {
  const events: ExecutionEnding[] = [];
  const run = await runMachine(definition as never, input, {
    ...options,
    compensate: async (event) => {
      events.push(executionEndingSchema.parse(event));
      return { compensated: true };
    },
  });
  return { run, events };
}

describe("the local runner hands every ending no Catch sees to the compensation, as the status-change rule does", () => {
  it("TIMED_OUT: the event names the execution, its input and States.Timeout; the result waits for the compensation", async () => {
    const { run, events } = await runRecorded({ ...slowTask, TimeoutSeconds: 100 });
    expect(run.outcome).toMatchObject({
      status: "TIMED_OUT",
      compensation: { output: { compensated: true } },
    });
    expect(events).toHaveLength(1);
    const detail = events[0]?.detail;
    expect(detail).toMatchObject({
      status: "TIMED_OUT",
      error: "States.Timeout",
      stateMachineArn: localStateMachineArn,
    });
    expect(detail?.executionArn).toMatch(/:execution:kubeferry:faithful-/);
    expect(JSON.parse(detail?.input ?? "null")).toEqual(input);
    expect(Math.abs((detail?.startDate ?? 0) - Date.now())).toBeLessThan(60_000);
  });

  it("ABORTED (StopExecution)", async () => {
    const { run, events } = await runRecorded(slowTask, {
      timeScale: SCALE,
      onStart: (execution) => setTimeout(() => execution.abort(), 300),
    });
    expect(run.outcome.status).toBe("ABORTED");
    expect(events.map((event) => event.detail.status)).toEqual(["ABORTED"]);
    expect(run.entered).toEqual(["Slow"]);
  });

  it("FAILED with States.DataLimitExceeded, which no Catch sees", async () => {
    const { run, events } = await runRecorded({
      StartAt: "Big",
      States: {
        Big: {
          Type: "Task",
          Resource: fn("echo"),
          Parameters: { bytes: maxPayloadBytes },
          Catch: [{ ErrorEquals: ["States.ALL"], Next: "Caught" }],
          End: true,
        },
        Caught: { Type: "Pass", End: true },
      },
    });
    expect(run.outcome.status).toBe("FAILED");
    expect(events.map((event) => [event.detail.status, event.detail.error])).toEqual([
      ["FAILED", "States.DataLimitExceeded"],
    ]);
  });

  it("FAILED at the workflow's own Fail state, with its Error, so the compensation knows the Catch path ran", async () => {
    const { events } = await runRecorded({
      StartAt: "Failed",
      States: { Failed: { Type: "Fail", Error: "MigrationFailed", Cause: "the run failed" } },
    });
    expect(events.map((event) => [event.detail.status, event.detail.error])).toEqual([
      ["FAILED", "MigrationFailed"],
    ]);
  });

  it("a SUCCEEDED execution has no compensation; a failing compensation is reported with the outcome", async () => {
    const succeeded = await runRecorded({ StartAt: "Done", States: { Done: { Type: "Pass", End: true } } });
    expect(succeeded.run.outcome.status).toBe("SUCCEEDED");
    expect(succeeded.events).toEqual([]);
    const failing = await runMachine(
      { StartAt: "Failed", States: { Failed: { Type: "Fail", Error: "X", Cause: "y" } } } as never,
      input,
      { timeScale: SCALE, compensate: async () => Promise.reject(new RangeError("cluster unreachable")) },
    );
    expect(failing.outcome).toMatchObject({
      status: "FAILED",
      compensation: { error: "RangeError: cluster unreachable" },
    });
  });
});
