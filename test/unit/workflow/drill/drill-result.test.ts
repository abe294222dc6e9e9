import { describe, expect, it } from "vitest";
import type { DrillCheck } from "../../../../functions/lib/workflow/drill/drill-state.ts";
import { migrationRequestSchema } from "../../../../functions/lib/workflow/request.ts";
import { runResult } from "../../../../functions/lib/workflow/run-result.ts";

const run = (drill?: unknown) => ({
  id: "drill-1",
  execution: "arn:aws:states:local:0:execution:m:drill-1",
  startedAt: "2026-12-03T04:00:00.000Z",
  request: migrationRequestSchema.parse({ pair: "p", namespaces: ["ledger"], ...(drill ? { drill } : {}) }),
});
const planned = {
  restoredRun: "standby-1",
  restoreStartedAt: "2026-12-03T04:00:05.000Z",
  scratchNamespaces: ["ledger-drill-0123abcd"],
  plan: { plan: "runs/drill-1/plans/stage.json", items: "i", volumes: 2, ranges: 4, bytes: 8 },
};
const check = (fields: Partial<DrillCheck>): DrillCheck => ({
  done: true,
  waitSeconds: 5,
  readyBy: "2026-12-03T04:15:00.000Z",
  waitingFor: [],
  checks: [],
  ...fields,
});
const now = new Date("2026-12-03T04:01:00.000Z");

describe("a drill's result", () => {
  it("passed: Successful, with the restored run, the time to ready and the checks", () => {
    const checks = [
      {
        namespace: "ledger-drill-0123abcd",
        pod: "ledger-0",
        container: "db",
        command: ["true"],
        passed: true,
        exitCode: 0,
      },
    ];
    const result = runResult(
      { run: run({}), drill: planned, drillCheck: check({ passed: true, timeToReadySeconds: 42, checks }) },
      now,
    );
    expect(result.status).toBe("Successful");
    expect(result.error).toBeNull();
    expect(result.drill).toEqual({ passed: true, restoredRun: "standby-1", timeToReadySeconds: 42, checks });
  });

  it("a failing check fails the run with the check's problem and no time to ready", () => {
    const result = runResult(
      {
        run: run({}),
        drill: planned,
        drillCheck: check({
          passed: false,
          problem: 'health check ["false"] in ledger-drill-0123abcd/ledger-0: exited 1',
        }),
      },
      now,
    );
    expect(result.status).toBe("Failed");
    expect(result.error).toMatch(/^DrillFailed: health check/);
    expect(result.drill).toMatchObject({ passed: false, timeToReadySeconds: null });
  });

  it("a drill that failed on a step, or partially applied, has not passed; a migration has no drill outcome", () => {
    const failed = runResult(
      { run: run({}), error: { Error: "NoCommittedRun", Cause: "namespace ledger: …" } },
      now,
    );
    expect(failed.drill).toEqual({ passed: false, restoredRun: null, timeToReadySeconds: null, checks: [] });
    const partial = runResult(
      {
        run: run({}),
        drill: planned,
        apply: { status: "PartialSuccess", objects: {}, failures: ["x"] },
        drillCheck: check({ passed: true, timeToReadySeconds: 10 }),
      },
      now,
    );
    expect(partial.drill?.passed).toBe(false);
    expect(runResult({ run: run() }, now)).not.toHaveProperty("drill");
    // A refused drill request (ValidateRequest) is a failed drill, so a broken schedule raises the drill alarm.
    const rejected = runResult(
      {
        outcome: "Rejected",
        request: { pair: "p", namespaces: ["ledger"], drill: { readyTimeoutSeconds: 1 } },
        error: { Error: "ValidationError", Cause: "drill.readyTimeoutSeconds: …" },
      },
      now,
    );
    expect(rejected.drill?.passed).toBe(false);
    expect(runResult({ outcome: "Rejected", request: { pair: "p" } }, now)).not.toHaveProperty("drill");
  });
});
