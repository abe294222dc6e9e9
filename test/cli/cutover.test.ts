import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, beforeEach, expect, it } from "vitest";
import { createOutput } from "../../cli/output.ts";
import { ProgressReporter } from "../../cli/progress.ts";
import { run } from "./run-cli.ts";

let previousHome: string | undefined;
beforeEach(() => {
  previousHome = process.env.KUBEFERRY_HOME;
  process.env.KUBEFERRY_HOME = mkdtempSync(join(tmpdir(), "kubeferry-cli-"));
});
afterEach(() => {
  rmSync(process.env.KUBEFERRY_HOME as string, { recursive: true, force: true });
  if (previousHome === undefined) delete process.env.KUBEFERRY_HOME;
  else process.env.KUBEFERRY_HOME = previousHome;
});

it("approve: a reason without --reject is a usage error, exit 2", async () => {
  const { code, stderr } = await run(["approve", "kf-1", "--reason", "late"]);
  expect(code).toBe(2);
  expect(stderr.trim()).toBe("kubeferry approve: --reason goes with --reject");
});

it("approve: a run no cutover waits for, or an unknown pair, is one line naming it, exit 2", async () => {
  const unknownRun = await run(["approve", "kf-1"]);
  expect(unknownRun.code).toBe(2);
  expect(unknownRun.stderr).toContain("run kf-1: no cutover of any pair is waiting for approval");
  const unknownPair = await run(["approve", "kf-1", "--pair", "nope"]);
  expect(unknownPair.code).toBe(2);
  expect(unknownPair.stderr).toContain('pair: "nope" does not exist');
});

it("cutover: a bad approval timeout names the flag, exit 2", async () => {
  const { code, stderr } = await run([
    "cutover",
    "--pair",
    "p",
    "-n",
    "ledger",
    "--approval-timeout",
    "soon",
  ]);
  expect(code).toBe(2);
  expect(stderr).toContain('--approval-timeout takes a whole number, at least 1 (got "soon")');
});

it("progress counts a nested sync's ranges, its states named under the Task that started it", () => {
  const stdout = new PassThrough();
  const lines: string[] = [];
  stdout.on("data", (chunk: Buffer) => lines.push(chunk.toString()));
  const reporter = new ProgressReporter(
    createOutput(false, stdout, Object.assign(new PassThrough(), { isTTY: false })),
  );
  const sums = { plan: "p", items: "i", volumes: 1, ranges: 2, bytes: 2 * 1048576 };
  reporter.handle({
    type: "StateExited",
    timestamp: 0,
    state: "FinalSync/PlanRanges",
    output: { plan: sums },
  });
  reporter.handle({ type: "StateEntered", timestamp: 0, state: "FinalSync/StageRanges" });
  reporter.handle({
    type: "StateExited",
    timestamp: 1000,
    state: "FinalSync/StageRange",
    input: { plan: "p", item: { volume: 0, range: { length: 1048576 } } },
    output: { chunks: 1 },
  });
  const text = lines.join("");
  expect(text).toContain("▸ FinalSync/StageRanges\n");
  expect(text).toContain("stage: 1.0 MiB of 2.0 MiB (1 of 2 ranges, 1 volume)");
});
