import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ValidationError } from "../../../functions/lib/errors.ts";
import { FilesystemBlobStore } from "../../../functions/lib/repository/filesystem-blob-store.ts";
import {
  answerApproval,
  cutoverRejectedError,
  readApprovalRequest,
  recordApprovalRequest,
} from "../../../functions/lib/workflow/cutover/approvals.ts";
import { approvalTimedOutError, cutoverResult } from "../../../functions/lib/workflow/cutover/result.ts";
import {
  cutoverRequestSchema,
  cutoverSyncRequest,
  migrationRequestSchema,
  parseRequest,
} from "../../../functions/lib/workflow/request.ts";
import { newLocalTaskToken, type TaskAnswer } from "../../../functions/lib/workflow/task-answers.ts";

const request = cutoverRequestSchema.parse({
  mode: "cutover",
  pair: "p",
  namespaces: ["ledger"],
  selector: "app=ledger",
});
const run = {
  id: "c-1",
  execution: "arn:x:c-1",
  startedAt: "2026-12-03T12:00:00.000Z",
  request,
  sync: cutoverSyncRequest(request),
};

describe("the cutover request", () => {
  it("defaults the gate to a day and builds standby syncs of objects and volumes from its selection", () => {
    expect(request).toMatchObject({
      approvalTimeoutSeconds: 86_400,
      quiesceHooks: [],
      readyTimeoutSeconds: 900,
    });
    expect(run.sync).toMatchObject({
      pair: "p",
      namespaces: ["ledger"],
      selector: "app=ledger",
      startApplications: false,
      includeResources: true,
      includeVolumes: true,
      dryRun: false,
    });
    expect(run.sync).not.toHaveProperty("approvalTimeoutSeconds");
  });

  it("refuses what a migration's fields would change about the syncs, and bad values, naming the field", () => {
    expect(() =>
      parseRequest(cutoverRequestSchema, { ...request, startApplications: true }, "cutover request"),
    ).toThrow(/unknown field "startApplications"/);
    expect(() =>
      parseRequest(cutoverRequestSchema, { ...request, approvalTimeoutSeconds: 10 }, "cutover request"),
    ).toThrow(/approvalTimeoutSeconds: /);
    expect(() =>
      parseRequest(cutoverRequestSchema, { ...request, namespaces: ["a", "a"] }, "cutover request"),
    ).toThrow(/namespaces.1: "a" is listed twice/);
  });
});

describe("the cutover result", () => {
  const now = new Date("2026-12-03T12:10:00.000Z");
  const quiesce = { cluster: "src", quiescedAt: "2026-12-03T12:05:00.000Z", workloads: [], hooks: 0 };

  it("reports the downtime from the quiesce to the destination's readiness", () => {
    const activation = {
      cluster: "dst",
      activatedAt: "2026-12-03T12:08:00.000Z",
      ready: true,
      waitingFor: [],
      readyAt: "2026-12-03T12:08:30.500Z",
      downtimeSeconds: 210.5,
    };
    expect(cutoverResult({ outcome: "Succeeded", run, quiesce, activation }, now)).toMatchObject({
      status: "Successful",
      runId: "c-1",
      downtimeSeconds: 210.5,
      readyAt: activation.readyAt,
      quiescedAt: quiesce.quiescedAt,
      sourceResumed: false,
      durationSeconds: 600,
      error: null,
    });
  });

  it("tells a rejection and an unanswered gate from a failure, and says when the source could not be started again", () => {
    const rolledBack = (name: string) =>
      cutoverResult(
        {
          outcome: "RolledBack",
          run,
          quiesce,
          error: { Error: name, Cause: "why" },
          resume: { cluster: "src", resumed: [] },
        },
        now,
      );
    expect(rolledBack(cutoverRejectedError)).toMatchObject({
      status: "Rejected",
      sourceResumed: true,
      downtimeSeconds: null,
    });
    expect(rolledBack(approvalTimedOutError).status).toBe("TimedOut");
    expect(rolledBack("VerifyFailed").status).toBe("Failed");
    const stuck = cutoverResult(
      {
        outcome: "RolledBack",
        run,
        quiesce,
        error: { Error: "CutoverTimeout", Cause: "slow" },
        resumeError: { Error: "Error", Cause: "down" },
      },
      now,
    );
    expect(stuck).toMatchObject({ status: "Failed", sourceResumed: false });
    expect(stuck.error).toBe(
      "CutoverTimeout: slow; the source was NOT started again (Error: down); start it with kubeferry activate --side source",
    );
  });

  it("names the pair of a refused request from the raw input", () => {
    expect(
      cutoverResult(
        {
          outcome: "Invalid",
          request: { pair: "p", namespaces: ["x"] },
          error: { Error: "ValidationError", Cause: "bad" },
        },
        now,
      ),
    ).toMatchObject({ status: "Failed", runId: null, pair: "p", namespaces: ["x"] });
  });
});

describe("answering the approval gate", () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function setUp(token: string) {
    dir = mkdtempSync(join(tmpdir(), "kubeferry-approvals-"));
    const store = new FilesystemBlobStore(dir);
    const sent: Array<[string, string, TaskAnswer]> = [];
    const channel = (name: string) => ({
      send: async (t: string, answer: TaskAnswer) => void sent.push([name, t, answer]),
    });
    const channels = { stepFunctions: () => channel("stepFunctions"), local: channel("local") };
    const record = {
      runId: "c-1",
      execution: "arn:x:c-1",
      pair: "p",
      namespaces: ["ledger"],
      token,
      requestedAt: "t",
    };
    return { store, sent, channels, record };
  }

  it("sends a rejection with the error the machine's Catch routes on, through Step Functions for its token", async () => {
    const { store, sent, channels, record } = setUp("AAAAKgAAAAIAAAAAAAAAAQ-aws-token");
    await recordApprovalRequest(store, record);
    expect(await readApprovalRequest(store, "c-1")).toEqual(record);
    await answerApproval(
      [{ pair: "p", store }],
      "c-1",
      { approve: false, by: "ana", reason: "wrong counts" },
      channels,
    );
    expect(sent).toEqual([
      [
        "stepFunctions",
        record.token,
        { outcome: "failure", error: "CutoverRejected", cause: "rejected by ana: wrong counts" },
      ],
    ]);
  });

  it("sends an approval to the local runner's channel for a local token", async () => {
    const { store, sent, channels, record } = setUp(newLocalTaskToken());
    await recordApprovalRequest(store, record);
    const now = new Date("2026-12-03T12:00:00.000Z");
    await answerApproval([{ pair: "p", store }], "c-1", { approve: true, by: "ana" }, channels, now);
    expect(sent).toEqual([
      [
        "local",
        record.token,
        { outcome: "success", output: { approvedBy: "ana", approvedAt: now.toISOString() } },
      ],
    ]);
  });

  it("refuses a run that waits nowhere, saying where it looked", async () => {
    const { store, channels } = setUp("t");
    const answering = answerApproval([{ pair: "p", store }], "c-9", { approve: true, by: "ana" }, channels);
    await expect(answering).rejects.toThrow(ValidationError);
    await expect(answering).rejects.toThrow(/run c-9: no cutover of p is waiting for approval/);
  });
});

describe("telling the workflows' requests apart", () => {
  it("needs the mode: a request of a pair and namespaces alone is a migration's, not a cutover's", () => {
    const selectionOnly = { pair: "p", namespaces: ["ledger"] };
    expect(cutoverRequestSchema.safeParse(selectionOnly).success).toBe(false);
    expect(() => parseRequest(cutoverRequestSchema, selectionOnly, "cutover request")).toThrow(
      /mode: must be "cutover"/,
    );
    expect(migrationRequestSchema.safeParse({ ...selectionOnly, mode: "cutover" }).success).toBe(false);
  });
});
