import { describe, expect, it } from "vitest";
import type { ActivationRun } from "../../../functions/lib/workflow/run.ts";
import { runResult } from "../../../functions/lib/workflow/run-result.ts";
import { snapshotWaitSeconds } from "../../../functions/lib/workflow/steps/check-snapshots.ts";

describe("snapshotWaitSeconds", () => {
  const timeout = 86_400;
  const at = (waitedSeconds: number) => {
    const start = Date.parse("2026-12-01T00:00:00Z");
    return [new Date(start + waitedSeconds * 1000), new Date(start + timeout * 1000)] as const;
  };

  it("checks again within 10 s at first, backs off to a quarter of the time waited, at most 5 minutes", () => {
    expect(snapshotWaitSeconds(...at(0), timeout)).toBe(10);
    expect(snapshotWaitSeconds(...at(200), timeout)).toBe(50);
    expect(snapshotWaitSeconds(...at(10_000), timeout)).toBe(300);
  });

  it("never waits past the deadline, and at least a second", () => {
    expect(snapshotWaitSeconds(...at(timeout - 42), timeout)).toBe(42);
    expect(snapshotWaitSeconds(...at(timeout), timeout)).toBe(1);
  });

  it("keeps a day-long wait to a few hundred checks, well inside 25,000 history events", () => {
    let waited = 0;
    let checks = 0;
    while (waited < timeout) {
      waited += snapshotWaitSeconds(...at(waited), timeout);
      checks += 1;
    }
    expect(checks).toBeLessThan(400);
  });
});

describe("runResult of an ending no Catch saw", () => {
  const run: ActivationRun = {
    id: "kf-1",
    execution: "arn:aws:states:eu-west-1:1:execution:kubeferry-migrate:kf-1",
    startedAt: "2026-12-01T00:00:00.000Z",
    request: { pair: "p", namespaces: ["shop"], action: "activate", side: "destination", lockPolicy: "skip" },
  };

  it.each([
    ["Aborted", "States.Aborted"],
    ["TimedOut", "States.Timeout"],
    ["Failed", "States.DataLimitExceeded"],
  ] as const)("%s is the published status, with the error", (outcome, error) => {
    const result = runResult(
      { run, outcome, error: { Error: error, Cause: "why" } },
      new Date("2026-12-01T00:01:00Z"),
    );
    expect(result).toMatchObject({
      status: outcome,
      runId: "kf-1",
      error: `${error}: why`,
      durationSeconds: 60,
    });
  });
});
