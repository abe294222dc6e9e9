import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { drillOf, drillReport } from "../../cli/commands/drill.ts";
import { commands } from "../../cli/commands/index.ts";
import { createOutput } from "../../cli/output.ts";
import { ProgressReporter } from "../../cli/progress.ts";
import type { RunResult } from "../../functions/lib/workflow/run-result.ts";
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

describe("kubeferry --help", () => {
  it("lists every command", async () => {
    const { code, stdout } = await run(["--help"]);
    expect(code).toBe(0);
    for (const command of commands) expect(stdout).toContain(command.path.join(" "));
  });

  it.each(commands.map((command) => [command.path.join(" "), command]))(
    "%s --help shows usage and examples",
    async (_name, command) => {
      const { code, stdout } = await run([...command.path, "--help"]);
      expect(code).toBe(0);
      expect(stdout).toContain(`Usage: kubeferry ${command.path.join(" ")}`);
      expect(command.examples.length).toBeGreaterThan(0);
      for (const example of command.examples)
        expect(stdout).toContain(example.split(" ").slice(0, 3).join(" "));
    },
  );
});

describe("errors", () => {
  it("a bad flag is one line naming it, exit 2", async () => {
    const { code, stderr } = await run(["migrate", "--pair", "p", "-n", "shop", "--bogus"]);
    expect(code).toBe(2);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toContain("--bogus");
  });

  it("an unknown pair is one line naming it, exit 2", async () => {
    const { code, stderr } = await run(["migrate", "--pair", "nope", "-n", "shop"]);
    expect(code).toBe(2);
    expect(stderr.trim()).toBe(
      'kubeferry migrate: unknown pair "nope" (kubeferry pair list shows the pairs)',
    );
  });

  it("a bad value names the flag and the choices, exit 2", async () => {
    const { code, stderr } = await run(["migrate", "--pair", "p", "-n", "shop", "--existing", "merge"]);
    expect(code).toBe(2);
    expect(stderr).toContain("--existing must be one of skip, update, fail");
  });

  it.each([[["teleport"]], [["teleport", "--help"]], [["pair", "teleport", "-h"]]])(
    "an unknown command %j says so, exit 2",
    async (argv) => {
      const { code, stdout, stderr } = await run(argv);
      expect(code).toBe(2);
      expect(stderr).toContain(`unknown command "${argv.filter((a) => !a.startsWith("-")).join(" ")}"`);
      expect(stdout).toBe("");
    },
  );

  it("a group's --help lists only that group's commands", async () => {
    const { code, stdout } = await run(["pair", "--help", "-o", "json"]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout).commands).toEqual(
      expect.arrayContaining(["pair create", "pair check", "pair list", "pair delete"]),
    );
    expect(JSON.parse(stdout).commands.every((c: string) => c.startsWith("pair "))).toBe(true);
  });
});

describe("--output json", () => {
  it("prints one parseable document", async () => {
    const { code, stdout } = await run(["cluster", "list", "-o", "json"]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual([]);
  });
});

describe("progress", () => {
  const event = (state: string, output: unknown) => ({
    type: "StateExited",
    timestamp: 2000,
    state,
    input: { plan: "runs/r/plans/stage.json", item: { volume: 0, range: { length: 1048576 } } },
    output,
  });
  const planned = (state: string, field: string) => ({
    type: "StateExited",
    timestamp: 0,
    state,
    output: { [field]: { plan: "p", items: "i", volumes: 1, ranges: 4, bytes: 4 * 1048576 } },
  });

  it("is plain lines without a terminal", () => {
    const stdout = new PassThrough();
    const lines: string[] = [];
    stdout.on("data", (chunk: Buffer) => lines.push(chunk.toString()));
    const reporter = new ProgressReporter(
      createOutput(false, stdout, Object.assign(new PassThrough(), { isTTY: false })),
    );
    reporter.handle(planned("PlanRanges", "plan"));
    reporter.handle({ type: "StateEntered", timestamp: 0, state: "StageRanges" });
    reporter.handle(event("StageRange", { chunks: 1 }));
    const text = lines.join("");
    expect(text).toContain("▸ StageRanges\n");
    // 1 MiB done 2 s after the phase began: 0.5 MiB/s, 3 MiB left.
    expect(text).toContain(
      "stage: 1.0 MiB of 4.0 MiB (1 of 4 ranges, 1 volume), 1 chunks, 512.0 KiB/s, ETA 6s",
    );
    expect(text).not.toContain("\r");
  });

  it("redraws one status line on a terminal", () => {
    const stderr = Object.assign(new PassThrough(), { isTTY: true });
    const written: string[] = [];
    stderr.on("data", (chunk: Buffer) => written.push(chunk.toString()));
    const reporter = new ProgressReporter(createOutput(false, new PassThrough(), stderr));
    reporter.handle(planned("PrepareVolumes", "restorePlan"));
    reporter.handle(event("RestoreRange", { writtenChunks: 1 }));
    expect(written.join("").startsWith("\r\u001b[2Krestore: 1.0 MiB of 4.0 MiB (1 of 4 ranges")).toBe(true);
  });
});

const invocation = (values: Record<string, string | string[]>) => ({ values, positionals: [] });

describe("kubeferry drill options", () => {
  it("take each health check as SELECTOR:CONTAINER:COMMAND, the command run by sh -c, colons and all", () => {
    expect(
      drillOf(
        invocation({
          "health-check": ["app=ledger,tier in (db):db:curl -fs http://127.0.0.1:8080/health"],
          "ready-timeout": "600",
        }),
      ),
    ).toEqual({
      healthChecks: [
        {
          podSelector: "app=ledger,tier in (db)",
          container: "db",
          command: ["sh", "-c", "curl -fs http://127.0.0.1:8080/health"],
        },
      ],
      readyTimeoutSeconds: 600,
    });
    expect(drillOf(invocation({}))).toEqual({ healthChecks: [] });
  });

  it("refuse a check without its three parts, in one line, exit 2", async () => {
    const { code, stderr } = await run([
      "drill",
      "--pair",
      "p",
      "-n",
      "ledger",
      "--health-check",
      "app=ledger:pg_isready",
    ]);
    expect(code).toBe(2);
    expect(stderr.trim()).toMatch(
      /--health-check takes SELECTOR:CONTAINER:COMMAND.*got "app=ledger:pg_isready"/,
    );
  });

  it("keep health checks to drill schedules", async () => {
    const { code, stderr } = await run([
      "schedule",
      "create",
      "ledger",
      "--pair",
      "p",
      "-n",
      "ledger",
      "--expression",
      "rate(1 day)",
      "--health-check",
      "app=ledger:db:true",
    ]);
    expect(code).toBe(2);
    expect(stderr).toContain("--health-check and --ready-timeout belong to --drill schedules");
  });
});

describe("the drill report", () => {
  const result: RunResult = {
    status: "Failed",
    runId: "drill-2",
    pair: "onprem-to-west",
    namespaces: ["ledger"],
    objects: {},
    volumes: [],
    volumeCount: 0,
    bytesStaged: 0,
    chunksUploaded: 0,
    durationSeconds: 40,
    error: "DrillFailed: not ready",
    drill: {
      passed: false,
      restoredRun: "standby-1",
      timeToReadySeconds: null,
      checks: [
        {
          namespace: "ledger-drill-0123abcd",
          pod: "ledger-0",
          container: "db",
          command: ["sh", "-c", "exit 3"],
          passed: false,
          exitCode: 3,
          output: "replica lag too high\n",
        },
      ],
    },
  };

  it("leads with the verdict, the restored run and each check, then the run's report", () => {
    const lines = drillReport(result).split("\n");
    expect(lines[0]).toBe("drill FAILED (restored run standby-1)");
    expect(lines[1]).toBe('  FAIL ledger-drill-0123abcd/ledger-0 ["sh","-c","exit 3"]: replica lag too high');
    expect(lines).toContain("error: DrillFailed: not ready");
    const passed = drillReport({
      ...result,
      status: "Successful",
      error: null,
      drill: { ...result.drill, passed: true, timeToReadySeconds: 42, checks: [] } as RunResult["drill"] & {},
    });
    expect(passed.split("\n")[0]).toMatch(
      /^drill PASSED: ready and healthy 42s after the restore started \(restored run standby-1\)$/,
    );
  });
});

describe("cutover and approve", () => {
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
});
