import { afterEach, describe, expect, it } from "vitest";
import { maxPayloadBytes } from "../../functions/lib/workflow/local-runner/payload-limit.ts";
import { closeSandboxes, fn, runMachine } from "./local-machine.ts";

afterEach(closeSandboxes);

const catchAll = (next: string) => [{ ErrorEquals: ["States.ALL"], Next: next }];
const retryAll = [{ ErrorEquals: ["States.ALL"], MaxAttempts: 2, IntervalSeconds: 1 }];

describe("256 KiB per state, iteration and Map result (States.DataLimitExceeded, uncatchable)", () => {
  it("a Task whose output is over 256 KiB fails the execution; its Retry and Catch do not run, nor any later state", async () => {
    const run = await runMachine(
      {
        StartAt: "Big",
        States: {
          Big: {
            Type: "Task",
            Resource: fn("echo"),
            Parameters: { bytes: maxPayloadBytes },
            Retry: retryAll,
            Catch: catchAll("Caught"),
            Next: "After",
          },
          Caught: { Type: "Pass", End: true },
          After: { Type: "Pass", End: true },
        },
      },
      {},
      { timeScale: 0.01 },
    );
    expect(run.outcome).toMatchObject({ status: "FAILED", error: "States.DataLimitExceeded" });
    expect((run.outcome as { cause: string }).cause).toContain("'Big'");
    expect(run.entered).toEqual(["Big"]);
    expect(run.events.some((event) => event.type === "StateRetried")).toBe(false);
  });

  it("a state whose output grows over 256 KiB by its ResultPath fails the same way, though each result is small", async () => {
    const step = (next: string) => ({
      Type: "Task",
      Resource: fn("echo"),
      Parameters: { bytes: 100_000 },
      ResultPath: `$.${next}`,
      Catch: catchAll("Caught"),
      Next: next,
    });
    const run = await runMachine(
      {
        StartAt: "One",
        States: {
          One: step("Two"),
          Two: step("Three"),
          Three: step("Done"),
          Done: { Type: "Pass", End: true },
          Caught: { Type: "Pass", End: true },
        },
      },
      {},
      { timeScale: 0.01 },
    );
    expect(run.outcome).toMatchObject({ status: "FAILED", error: "States.DataLimitExceeded" });
    expect(run.entered).toEqual(["One", "Two", "Three"]);
  });

  it("a Map whose aggregated result is over 256 KiB fails the execution, though every iteration and its own output are small", async () => {
    const run = await runMachine(
      {
        StartAt: "Fan",
        States: {
          Fan: {
            Type: "Map",
            ItemsPath: "$.items",
            ItemSelector: { "bytes.$": "$$.Map.Item.Value" },
            ItemProcessor: {
              ProcessorConfig: { Mode: "INLINE" },
              StartAt: "Produce",
              States: { Produce: { Type: "Task", Resource: fn("echo"), End: true } },
            },
            ResultPath: null,
            Catch: catchAll("Caught"),
            Next: "After",
          },
          Caught: { Type: "Pass", End: true },
          After: { Type: "Pass", End: true },
        },
      },
      { items: [60_000, 60_000, 60_000, 60_000, 60_000] },
      { timeScale: 0.01 },
    );
    expect(run.outcome).toMatchObject({ status: "FAILED", error: "States.DataLimitExceeded" });
    expect((run.outcome as { cause: string }).cause).toContain("result of Map state 'Fan'");
    expect(run.entered).not.toContain("Caught");
    expect(run.entered).not.toContain("After");
  });

  it("a Map iteration whose input is over 256 KiB fails the execution, though the Map's own input is small", async () => {
    const pad = "p".repeat(150_000);
    const run = await runMachine(
      {
        StartAt: "Fan",
        States: {
          Fan: {
            Type: "Map",
            ItemsPath: "$.items",
            ItemSelector: { "item.$": "$$.Map.Item.Value", "a.$": "$.pad", "b.$": "$.pad" },
            ItemProcessor: {
              ProcessorConfig: { Mode: "INLINE" },
              StartAt: "Inner",
              States: { Inner: { Type: "Pass", Result: "ok", End: true } },
            },
            ResultPath: null,
            Catch: catchAll("Caught"),
            End: true,
          },
          Caught: { Type: "Pass", End: true },
        },
      },
      { items: [1], pad },
      { timeScale: 0.01 },
    );
    expect(run.outcome).toMatchObject({ status: "FAILED", error: "States.DataLimitExceeded" });
    expect((run.outcome as { cause: string }).cause).toContain("iteration of Map state 'Fan'");
    expect(run.entered).toEqual(["Fan"]);
  });

  it("a state of exactly 256 KiB passes", async () => {
    // {"blob":"…"} is 11 bytes of JSON around the string.
    const run = await runMachine(
      {
        StartAt: "Edge",
        States: {
          Edge: {
            Type: "Task",
            Resource: fn("echo"),
            Parameters: { bytes: maxPayloadBytes - 11 },
            End: true,
          },
        },
      },
      {},
      { timeScale: 0.01 },
    );
    expect(run.outcome.status).toBe("SUCCEEDED");
  });
});
