import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { waitFor } from "../env/clusters.ts";
import { closeSandboxes, fn, runMachine } from "./local-machine.ts";

// Every duration below is real AWS seconds; at this scale 100 s pass in one.
const SCALE = 0.01;
const markers = mkdtempSync(join(tmpdir(), "kubeferry-faithful-"));
let count = 0;
const marker = () => join(markers, `marker-${++count}`);

afterEach(closeSandboxes);
afterAll(() => rmSync(markers, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("Task and function timeouts", () => {
  it("a Task past its TimeoutSeconds fails with States.Timeout (retried, then caught) while its step keeps running to the end", async () => {
    const finished = marker();
    const started = Date.now();
    const run = await runMachine(
      {
        StartAt: "Slow",
        States: {
          Slow: {
            Type: "Task",
            Resource: fn("slow"),
            Parameters: { seconds: 3, marker: finished },
            TimeoutSeconds: 100,
            Retry: [{ ErrorEquals: ["States.Timeout"], MaxAttempts: 1, IntervalSeconds: 1 }],
            Catch: [{ ErrorEquals: ["States.Timeout"], Next: "TimedOut" }],
            End: true,
          },
          TimedOut: { Type: "Pass", End: true },
        },
      },
      {},
      { timeScale: SCALE },
    );
    const ended = Date.now();
    expect(run.outcome.status).toBe("SUCCEEDED");
    expect(run.entered).toEqual(["Slow", "TimedOut"]);
    const failures = run.events.filter((event) => event.type === "StateFailed");
    expect(failures.map((event) => event.error)).toEqual(["States.Timeout", "States.Timeout"]);
    expect(run.events.filter((event) => event.type === "StateRetried")).toHaveLength(1);
    // Two attempts of about a second each, far less than the 3 s the step works.
    expect(ended - started).toBeLessThan(3000);
    expect(existsSync(finished)).toBe(false);
    await waitFor("the timed-out step to finish its work", async () => existsSync(finished), 10_000);
    expect(JSON.parse(readFileSync(finished, "utf8")).finishedAt).toBeGreaterThan(ended);
  });

  it("a function past its own timeout fails as Lambda reports it (Sandbox.Timedout), which States.TaskFailed and a Catch on the name match", async () => {
    const run = await runMachine(
      {
        StartAt: "Slow",
        States: {
          Slow: {
            Type: "Task",
            Resource: fn("slow"),
            Parameters: { seconds: 3 },
            TimeoutSeconds: 900,
            Retry: [{ ErrorEquals: ["States.TaskFailed"], MaxAttempts: 1, IntervalSeconds: 1 }],
            Catch: [{ ErrorEquals: ["Sandbox.Timedout"], Next: "FunctionTimedOut" }],
            End: true,
          },
          FunctionTimedOut: { Type: "Pass", End: true },
        },
      },
      {},
      { timeScale: SCALE, functionTimeoutSeconds: 100 },
    );
    expect(run.outcome.status).toBe("SUCCEEDED");
    expect(run.entered).toEqual(["Slow", "FunctionTimedOut"]);
    const failures = run.events.filter((event) => event.type === "StateFailed");
    expect(failures.map((event) => event.error)).toEqual(["Sandbox.Timedout", "Sandbox.Timedout"]);
    expect(JSON.parse(failures[0]?.cause ?? "{}")).toMatchObject({
      errorType: "Sandbox.Timedout",
      errorMessage: expect.stringContaining("Task timed out after 100.00 seconds"),
    });
  });

  it("a function's error comes back with its name as the error type and its message in the JSON cause", async () => {
    const run = await runMachine(
      {
        StartAt: "Pair",
        States: {
          Pair: {
            Type: "Task",
            Resource: fn("fail"),
            Parameters: { pair: "onprem-to-west" },
            Catch: [{ ErrorEquals: ["PairingError"], ResultPath: "$.error", Next: "Rejected" }],
            End: true,
          },
          Rejected: { Type: "Pass", End: true },
        },
      },
      {},
      { timeScale: SCALE },
    );
    expect(run.outcome).toMatchObject({ status: "SUCCEEDED" });
    const output = (run.outcome as { output: { error: { Error: string; Cause: string } } }).output;
    expect(output.error.Error).toBe("PairingError");
    expect(JSON.parse(output.error.Cause)).toMatchObject({ errorMessage: "cannot pair onprem-to-west" });
  });
});

describe("function memory", () => {
  it("a function past its memory size fails as Lambda reports it (Runtime.OutOfMemory); its retry, in a fresh sandbox, fails the same way", async () => {
    const run = await runMachine(
      {
        StartAt: "Hog",
        States: {
          Hog: {
            Type: "Task",
            Resource: fn("hog"),
            Retry: [{ ErrorEquals: ["Runtime.OutOfMemory"], MaxAttempts: 1, IntervalSeconds: 1 }],
            Catch: [{ ErrorEquals: ["Runtime.OutOfMemory"], Next: "OutOfMemory" }],
            End: true,
          },
          OutOfMemory: { Type: "Pass", End: true },
        },
      },
      {},
      { timeScale: SCALE, memoryMiB: 64 },
    );
    expect(run.entered).toEqual(["Hog", "OutOfMemory"]);
    const failures = run.events.filter((event) => event.type === "StateFailed");
    expect(failures.map((event) => event.error)).toEqual(["Runtime.OutOfMemory", "Runtime.OutOfMemory"]);
  });
});

describe("endings no Catch sees", () => {
  const failingTask = (catchMarker: string) => ({
    StartAt: "Slow",
    States: {
      // The function fails (its own timeout) after the execution has ended.
      Slow: {
        Type: "Task",
        Resource: fn("slow"),
        Parameters: { seconds: 5 },
        TimeoutSeconds: 900,
        Catch: [{ ErrorEquals: ["States.ALL"], Next: "Compensate" }],
        End: true,
      },
      Compensate: {
        Type: "Task",
        Resource: fn("slow"),
        Parameters: { seconds: 0, marker: catchMarker },
        End: true,
      },
    },
  });

  it("an execution past its TimeoutSeconds ends TIMED_OUT (States.Timeout) without running its Catch", async () => {
    const compensated = marker();
    const started = Date.now();
    const run = await runMachine(
      { ...failingTask(compensated), TimeoutSeconds: 100 },
      {},
      { timeScale: SCALE, functionTimeoutSeconds: 200 },
    );
    expect(run.outcome).toMatchObject({ status: "TIMED_OUT", error: "States.Timeout" });
    expect(Date.now() - started).toBeLessThan(1900);
    // Past the moment the Task fails and its Catch would have run.
    await sleep(2500);
    expect(existsSync(compensated)).toBe(false);
    expect(run.events.at(-1)?.type).toBe("ExecutionTimeout");
  });

  it("an abort (StopExecution) ends the execution ABORTED without running its Catch", async () => {
    const compensated = marker();
    const run = await runMachine(
      failingTask(compensated),
      {},
      {
        timeScale: SCALE,
        functionTimeoutSeconds: 100,
        onStart: (execution) => setTimeout(() => execution.abort(), 300),
      },
    );
    expect(run.outcome).toMatchObject({ status: "ABORTED" });
    await sleep(1500);
    expect(existsSync(compensated)).toBe(false);
    expect(run.entered).toEqual(["Slow"]);
  });
});

describe("Wait states at the time scale", () => {
  it.each([
    ["Seconds", { Seconds: 200 }, {}],
    ["SecondsPath", { SecondsPath: "$.wait.seconds" }, { wait: { seconds: 200 } }],
    ["TimestampPath", { TimestampPath: "$.until" }, { until: "later" }],
  ])("a Wait of 200 s by %s lasts about 2 s", async (_form, fields, input) => {
    const resolved = "until" in input ? { until: new Date(Date.now() + 200_000).toISOString() } : input;
    const started = Date.now();
    const run = await runMachine(
      { StartAt: "Pause", States: { Pause: { Type: "Wait", ...fields, End: true } } },
      resolved,
      { timeScale: SCALE },
    );
    const elapsed = Date.now() - started;
    expect(run.outcome.status).toBe("SUCCEEDED");
    expect(elapsed).toBeGreaterThan(1800);
    expect(elapsed).toBeLessThan(4000);
  });
});
