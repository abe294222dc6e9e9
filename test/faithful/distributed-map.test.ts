import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { FilesystemBlobStore } from "../../functions/lib/repository/filesystem-blob-store.ts";
import type { AslDefinition } from "../../functions/lib/workflow/local-runner/time-scale.ts";
import { startLocalExecution } from "../../functions/lib/workflow/local-runner.ts";
import { closeSandboxes, fn, runMachine } from "./local-machine.ts";

afterEach(closeSandboxes);

const folder = mkdtempSync(join(tmpdir(), "kubeferry-distributed-map-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));
const items = { bucket: "plans", store: new FilesystemBlobStore(folder) };

async function putItems(key: string, values: unknown[]): Promise<void> {
  await items.store.put(key, Buffer.from(JSON.stringify(values)));
}

/** A Distributed Map as the workflow writes one: items from S3 in batches, an inline Map over each batch. */
function readingMap(task: "echo" | "fail", overrides: Record<string, unknown> = {}): AslDefinition {
  return {
    StartAt: "Fan",
    States: {
      Fan: {
        Type: "Map",
        ItemReader: {
          Resource: "arn:aws:states:::s3:getObject",
          ReaderConfig: { InputType: "JSON" },
          Parameters: { Bucket: "plans", "Key.$": "$.key" },
        },
        ItemBatcher: { MaxItemsPerBatch: 4, BatchInput: { "tag.$": "$.tag" } },
        MaxConcurrency: 2,
        ToleratedFailurePercentage: 0,
        ItemProcessor: {
          ProcessorConfig: { Mode: "DISTRIBUTED", ExecutionType: "STANDARD" },
          StartAt: "Batch",
          States: {
            Batch: {
              Type: "Map",
              ItemsPath: "$.Items",
              ItemSelector: { "tag.$": "$.BatchInput.tag", "item.$": "$$.Map.Item.Value" },
              ItemProcessor: {
                ProcessorConfig: { Mode: "INLINE" },
                StartAt: "Each",
                States: { Each: { Type: "Task", Resource: fn(task), End: true } },
              },
              ResultPath: null,
              OutputPath: null,
              End: true,
            },
          },
        },
        ResultPath: "$.fanned",
        Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "Caught" }],
        Next: "Done",
        ...overrides,
      },
      Caught: { Type: "Pass", End: true },
      Done: { Type: "Pass", End: true },
    },
  } as AslDefinition;
}

describe("Distributed Map with ItemReader and ItemBatcher on the local runner", () => {
  it("reads the items from the bucket, runs one child per batch of {Items, BatchInput} and one Task per item", async () => {
    await putItems(
      "runs/a/items.json",
      Array.from({ length: 10 }, (_, n) => ({ n })),
    );
    const run = await runMachine(
      readingMap("echo"),
      { key: "runs/a/items.json", tag: "t" },
      { timeScale: 0.01, items },
    );
    expect(run.outcome.status).toBe("SUCCEEDED");
    const output = (run.outcome as { output: { fanned: unknown[] } }).output;
    // Three children (4 + 4 + 2 items), each with an empty output.
    expect(output.fanned).toEqual([{}, {}, {}]);
    const tasks = run.events.filter((event) => event.type === "StateExited" && event.state === "Each");
    expect(tasks.map((event) => event.input)).toEqual(
      expect.arrayContaining(Array.from({ length: 10 }, (_, n) => ({ tag: "t", item: { n } }))),
    );
    expect(tasks).toHaveLength(10);
    const batches = run.events.filter((event) => event.type === "StateEntered" && event.state === "Batch");
    expect(batches.map((event) => event.input)).toContainEqual({
      Items: [{ n: 8 }, { n: 9 }],
      BatchInput: { tag: "t" },
    });
  });

  it("holds each child execution's input to 256 KiB: a batch over it fails the execution, uncaught", async () => {
    await putItems(
      "runs/b/items.json",
      Array.from({ length: 4 }, () => ({ blob: "x".repeat(70_000) })),
    );
    const run = await runMachine(
      readingMap("echo"),
      { key: "runs/b/items.json", tag: "t" },
      { timeScale: 0.01, items },
    );
    expect(run.outcome).toMatchObject({ status: "FAILED", error: "States.DataLimitExceeded" });
    expect((run.outcome as { cause: string }).cause).toContain("child execution of Map state 'Fan'");
    expect(run.entered).not.toContain("Caught");
  });

  it("fails the Map Run with States.ExceedToleratedFailureThreshold when a child fails; a Catch sees that, not the child's error", async () => {
    await putItems("runs/c/items.json", [{ pair: "p" }]);
    const run = await runMachine(
      readingMap("fail"),
      { key: "runs/c/items.json", tag: "t" },
      { timeScale: 0.01, items },
    );
    expect(run.outcome.status).toBe("SUCCEEDED");
    expect(run.entered).toContain("Caught");
    const output = (run.outcome as { output: { error: { Error: string; Cause: string } } }).output;
    expect(output.error.Error).toBe("States.ExceedToleratedFailureThreshold");
    expect(output.error.Cause).not.toContain("cannot pair");
    expect(run.events.some((event) => event.type === "StateFailed" && event.error === "PairingError")).toBe(
      true,
    );
  });

  it("fails with States.ItemReaderFailed, catchable, when the items object is missing or not an array", async () => {
    await items.store.put("runs/d/items.json", Buffer.from('{"not":"an array"}'));
    for (const key of ["runs/none/items.json", "runs/d/items.json"]) {
      const run = await runMachine(readingMap("echo"), { key, tag: "t" }, { timeScale: 0.01, items });
      const output = (run.outcome as { output: { error: { Error: string } } }).output;
      expect(output.error.Error, key).toBe("States.ItemReaderFailed");
    }
  });

  it.each([
    [
      { ItemReader: { ...readerOf(), ReaderConfig: { InputType: "JSON", MaxItems: 5 } } },
      "ItemReader.ReaderConfig",
    ],
    [
      {
        ItemReader: { ...readerOf(), Parameters: { Bucket: "plans", "Key.$": "States.Format('{}', $.key)" } },
      },
      "Key.$",
    ],
    [
      { ItemBatcher: { MaxItemsPerBatch: 4, MaxInputBytesPerBatch: 1024 } },
      "ItemBatcher.MaxInputBytesPerBatch",
    ],
    [{ ItemSelector: { "x.$": "$$.Map.Item.Value" } }, "Fan.ItemSelector"],
    [{ ResultWriter: { Resource: "arn:aws:states:::s3:putObject" } }, "Fan.ResultWriter"],
    [{ ToleratedFailurePercentage: 5 }, "ToleratedFailurePercentage"],
  ])("refuses what it does not implement: %j", (overrides, field) => {
    expect(() =>
      startLocalExecution(readingMap("echo", overrides), {}, async () => ({}), "refused", { items }),
    ).toThrow(field);
  });
});

function readerOf() {
  return readingMap("echo").States.Fan?.ItemReader as Record<string, unknown>;
}
