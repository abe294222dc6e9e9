import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FilesystemBlobStore } from "../../../../functions/lib/repository/filesystem-blob-store.ts";
import {
  localFunctionArn,
  localStateMachineArnOf,
} from "../../../../functions/lib/workflow/local-runner/cloud-assembly.ts";
import type { AslDefinition } from "../../../../functions/lib/workflow/local-runner/time-scale.ts";
import {
  type ExecutionEvent,
  type LocalExecutionOptions,
  startLocalExecution,
} from "../../../../functions/lib/workflow/local-runner.ts";
import { StoreTaskAnswers } from "../../../../functions/lib/workflow/task-answers.ts";

const childArn = localStateMachineArnOf("ChildStateMachine");
const retry = [{ ErrorEquals: ["Transient"], MaxAttempts: 1 }];

/** A child that echoes its input through a function, or fails when told to. */
const child: AslDefinition = {
  StartAt: "Echo",
  States: {
    Echo: {
      Type: "Task",
      Resource: localFunctionArn("echo"),
      TimeoutSeconds: 30,
      Retry: retry,
      Next: "Done",
    },
    Done: { Type: "Succeed" },
  },
};

function parent(states: AslDefinition["States"], startAt: string): AslDefinition {
  return { StartAt: startAt, States: states };
}

const nested = (next: string | undefined) => ({
  Type: "Task",
  Resource: "arn:aws:states:::states:startExecution.sync:2",
  Parameters: {
    StateMachineArn: childArn,
    "Name.$": "States.Format('{}-child', $$.Execution.Name)",
    "Input.$": "$.child",
  },
  ResultSelector: { "status.$": "$.Status", "output.$": "$.Output", "name.$": "$.Name" },
  ResultPath: "$.nested",
  Catch: [{ ErrorEquals: ["States.TaskFailed"], ResultPath: "$.error", Next: "Caught" }],
  ...(next ? { Next: next } : { End: true }),
});

const gate = {
  Type: "Task",
  Resource: "arn:aws:states:::lambda:invoke.waitForTaskToken",
  TimeoutSecondsPath: "$.approvalTimeoutSeconds",
  Parameters: {
    FunctionName: localFunctionArn("record"),
    Payload: { "token.$": "$$.Task.Token", note: "gate" },
  },
  ResultPath: "$.answer",
  Catch: [{ ErrorEquals: ["Rejected", "States.Timeout"], ResultPath: "$.error", Next: "Caught" }],
  End: true,
};

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function setUp() {
  dir = mkdtempSync(join(tmpdir(), "kubeferry-integrations-"));
  const answers = new StoreTaskAnswers(new FilesystemBlobStore(dir), 10);
  const tokens: string[] = [];
  const invoked: Array<[string, unknown]> = [];
  const invoke = async (name: string, payload: unknown) => {
    invoked.push([name, payload]);
    if (name === "record") {
      tokens.push((payload as { token: string }).token);
      return {};
    }
    if ((payload as { fail?: boolean }).fail)
      throw Object.assign(new Error("told to fail"), { name: "Boom" });
    return payload;
  };
  const options: LocalExecutionOptions = { stateMachines: { [childArn]: child }, taskAnswers: answers };
  const run = (definition: AslDefinition, input: unknown, overrides: Partial<LocalExecutionOptions> = {}) =>
    startLocalExecution(definition, input, invoke, "parent-run", { ...options, ...overrides });
  return { answers, tokens, invoked, run };
}

const caught = { Caught: { Type: "Pass", End: true } };

describe("startExecution.sync:2", () => {
  it("runs the named machine as a child and returns its description with the output as JSON", async () => {
    const { run } = setUp();
    const execution = run(parent({ Nested: nested(undefined), ...caught }, "Nested"), { child: { n: 1 } });
    const events: ExecutionEvent[] = [];
    for await (const event of execution.events) events.push(event);
    const outcome = await execution.result;
    expect(outcome).toMatchObject({
      status: "SUCCEEDED",
      output: { nested: { status: "SUCCEEDED", output: { n: 1 }, name: "parent-run-child" } },
    });
    // The child's states are in the parent's log, under the Task that started it.
    expect(events.filter((e) => e.type === "StateEntered").map((e) => e.state)).toEqual(
      expect.arrayContaining(["Nested", "Nested/Echo"]),
    );
  });

  it("fails the Task with States.TaskFailed naming the child's error when the child fails", async () => {
    const { run } = setUp();
    const outcome = await run(parent({ Nested: nested(undefined), ...caught }, "Nested"), {
      child: { fail: true },
    }).result;
    expect(outcome.status).toBe("SUCCEEDED");
    const error = (outcome as { output: { error: { Error: string; Cause: string } } }).output.error;
    expect(error.Error).toBe("States.TaskFailed");
    expect(JSON.parse(error.Cause)).toMatchObject({
      Status: "FAILED",
      Error: "Boom",
      Name: "parent-run-child",
    });
  });

  it("refuses a machine the run does not have", async () => {
    const { run } = setUp();
    const outcome = await run(
      parent({ Nested: nested(undefined), ...caught }, "Nested"),
      { child: {} },
      {
        stateMachines: {},
      },
    ).result;
    expect((outcome as { output: { error: { Cause: string } } }).output.error.Cause).toContain(
      "does not exist",
    );
  });

  it("stops the child when the parent is stopped", async () => {
    const { run, invoked } = setUp();
    const slowChild: AslDefinition = {
      StartAt: "Pause",
      States: {
        Pause: { Type: "Wait", Seconds: 1, Next: "Echo" },
        Echo: { Type: "Task", Resource: localFunctionArn("echo"), TimeoutSeconds: 30, End: true },
      },
    };
    const execution = run(
      parent({ Nested: nested(undefined), ...caught }, "Nested"),
      { child: {} },
      {
        stateMachines: { [childArn]: slowChild },
      },
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    execution.abort();
    expect((await execution.result).status).toBe("ABORTED");
    // A child left running would invoke Echo once its 1 s pause is over.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(invoked).toEqual([]);
  });
});

describe("lambda:invoke.waitForTaskToken", () => {
  it("gives the function a fresh token and returns the success answered to it", async () => {
    const { run, tokens, answers, invoked } = setUp();
    const execution = run(parent({ Gate: gate, ...caught }, "Gate"), { approvalTimeoutSeconds: 60 });
    while (tokens.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(invoked[0]).toEqual(["record", { token: tokens[0], note: "gate" }]);
    await answers.send(tokens[0] as string, { outcome: "success", output: { approvedBy: "test" } });
    expect(await execution.result).toMatchObject({
      status: "SUCCEEDED",
      output: { answer: { approvedBy: "test" } },
    });
  });

  it("fails the Task with the answered error, which Catch matches by name", async () => {
    const { run, tokens, answers } = setUp();
    const execution = run(parent({ Gate: gate, ...caught }, "Gate"), { approvalTimeoutSeconds: 60 });
    while (tokens.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    await answers.send(tokens[0] as string, { outcome: "failure", error: "Rejected", cause: "not today" });
    expect(await execution.result).toMatchObject({
      status: "SUCCEEDED",
      output: { error: { Error: "Rejected", Cause: "not today" } },
    });
  });

  it("ends an unanswered wait with States.Timeout after TimeoutSecondsPath, on the time scale", async () => {
    const { run } = setUp();
    const started = Date.now();
    const outcome = await run(
      parent({ Gate: gate, ...caught }, "Gate"),
      { approvalTimeoutSeconds: 100 },
      {
        timeScale: 0.005,
      },
    ).result;
    expect(outcome).toMatchObject({ status: "SUCCEEDED", output: { error: { Error: "States.Timeout" } } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
  });

  it("fails as States.Runtime when the run has no channel for answers", async () => {
    const { run } = setUp();
    const outcome = await run(
      parent({ Gate: gate, ...caught }, "Gate"),
      { approvalTimeoutSeconds: 60 },
      {
        taskAnswers: undefined,
      },
    ).result;
    expect(outcome).toMatchObject({ status: "FAILED", error: "States.Runtime" });
  });
});
