import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Match } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { cutoverRejectedError } from "../../functions/lib/workflow/cutover/approvals.ts";
import { approvalTimedOutError } from "../../functions/lib/workflow/cutover/result.ts";
import { workflowFailErrors } from "../../functions/lib/workflow/execution-ending.ts";
import { cutoverRequestSchema } from "../../functions/lib/workflow/request.ts";
import { type TaskName, taskCatalog } from "../../functions/lib/workflow/task-catalog.ts";
import { synthesize } from "./synthesize.ts";

type AslState = Record<string, any>;
const asl = (file: string) =>
  JSON.parse(readFileSync(join(import.meta.dirname, "..", "..", "statemachines", file), "utf8"));
const definition = asl("cutover.asl.json");
const states: Record<string, AslState> = definition.States;
const functionOf = (state: AslState): TaskName | undefined =>
  /^\$\{(\w+)FunctionArn\}$/.exec(state.Resource ?? state.Parameters?.FunctionName ?? "")?.[1] as TaskName;

describe("cutover.asl.json", () => {
  it("runs both syncs as nested standby migrations of the migration machine", () => {
    for (const name of ["FirstSync", "FinalSync"]) {
      expect(states[name], name).toMatchObject({
        Resource: "arn:aws:states:::states:startExecution.sync:2",
        Parameters: { StateMachineArn: "${MigrationStateMachineArn}", "Input.$": "$.run.sync" },
      });
      expect(states[name]?.TimeoutSeconds).toBeGreaterThanOrEqual(asl("migrate.asl.json").TimeoutSeconds);
    }
    expect(states.FirstSync?.Catch.at(-1).Next).toBe("NotStarted");
    expect(states.FinalSync?.Catch.at(-1).Next).toBe("ResumeSource");
  });

  it("waits at the gate for a task token, for the request's approvalTimeoutSeconds, which fit in the machine's timeout", () => {
    expect(states.RequestApproval).toMatchObject({
      Resource: "arn:aws:states:::lambda:invoke.waitForTaskToken",
      TimeoutSecondsPath: "$.run.request.approvalTimeoutSeconds",
      Parameters: { FunctionName: "${RequestApprovalFunctionArn}", Payload: { "token.$": "$$.Task.Token" } },
      Next: "ActivateDestination",
    });
    const longestApproval = cutoverRequestSchema.shape.approvalTimeoutSeconds.unwrap().maxValue as number;
    const longestSync = asl("migrate.asl.json").TimeoutSeconds;
    expect(definition.TimeoutSeconds).toBeGreaterThanOrEqual(longestApproval + 2 * longestSync);
    // Shortest approval: longer than the function that records the token.
    expect(cutoverRequestSchema.shape.approvalTimeoutSeconds.unwrap().minValue).toBeGreaterThan(
      taskCatalog.RequestApproval.timeoutSeconds,
    );
  });

  it("starts the source again on a rejection, a timeout of the gate or any failure after the quiesce", () => {
    const afterQuiesce = [
      "QuiesceSource",
      "FinalSync",
      "RequestApproval",
      "ActivateDestination",
      "CheckDestination",
    ];
    for (const name of afterQuiesce) {
      const last = states[name]?.Catch.at(-1);
      expect(last, name).toMatchObject({ ErrorEquals: ["States.ALL"], Next: "ResumeSource" });
    }
    expect(states.RequestApproval?.Catch[0]).toMatchObject({
      ErrorEquals: ["States.Timeout"],
      Next: "ApprovalTimedOut",
    });
    expect(states.ApprovalTimedOut?.Next).toBe("ResumeSource");
    expect(states.ApprovalTimedOut?.Parameters.Error).toBe(approvalTimedOutError);
    expect(states.FinalSyncNotSuccessful?.Next).toBe("ResumeSource");
    // A failure before the quiesce touches nothing.
    for (const name of ["PublishStarted", "FirstSync"])
      expect(states[name]?.Catch.at(-1).Next, name).toBe("NotStarted");
    expect(states.FirstSyncNotSuccessful?.Next).toBe("NotStarted");
    // Compensation publishes even when it fails itself.
    expect(states.ResumeSource?.Catch).toEqual([
      { ErrorEquals: ["States.ALL"], ResultPath: "$.resumeError", Next: "RolledBack" },
    ]);
    expect(cutoverRejectedError).toBe("CutoverRejected");
  });

  it("ends in a Fail the ending compensation knows was rolled back already", () => {
    const fails = Object.values(states).filter((state) => state.Type === "Fail");
    expect(fails.map((fail) => fail.Error)).toEqual(["CutoverNotCompleted"]);
    expect(workflowFailErrors).toContain("CutoverNotCompleted");
  });

  it("gives every Lambda Task a timeout longer than its function's; the quiesce hooks are not retried after a timeout", () => {
    for (const [name, state] of Object.entries(states).filter(
      ([, s]) => s.Type === "Task" && s.TimeoutSeconds,
    )) {
      const task = functionOf(state);
      if (task === undefined) continue;
      expect(state.TimeoutSeconds, name).toBeGreaterThan(taskCatalog[task].timeoutSeconds);
    }
    const retried = states.QuiesceSource?.Retry.flatMap((retry: AslState) => retry.ErrorEquals);
    for (const error of ["States.Timeout", "Sandbox.Timedout", "Lambda.Unknown", "States.ALL"])
      expect(retried).not.toContain(error);
  });
});

describe("the cutover state machine in the stack", () => {
  const { template } = synthesize();
  const policyOf = () => {
    const machines = template.findResources("AWS::StepFunctions::StateMachine", {
      Properties: { StateMachineName: "kubeferry-cutover" },
    });
    const [machine] = Object.values(machines) as any[];
    const role = machine.Properties.RoleArn["Fn::GetAtt"][0];
    const policies = template.findResources("AWS::IAM::Policy", {
      Properties: { Roles: [{ Ref: role }] },
    });
    return (Object.values(policies)[0] as any).Properties.PolicyDocument.Statement as any[];
  };

  it("substitutes the migration machine's ARN and exports its own", () => {
    template.hasResourceProperties("AWS::StepFunctions::StateMachine", {
      StateMachineName: "kubeferry-cutover",
      DefinitionSubstitutions: Match.objectLike({
        MigrationStateMachineArn: { Ref: Match.stringLikeRegexp("^MigrationStateMachine") },
        RequestApprovalFunctionArn: { "Fn::GetAtt": [Match.stringLikeRegexp("RequestApproval"), "Arn"] },
      }),
    });
    template.hasOutput("CutoverStateMachineArn", Match.anyValue());
  });

  it("may start the migration machine, describe and stop its executions, and use the managed rule .sync needs", () => {
    const statements = policyOf();
    const allowing = (action: string) => statements.filter((s) => [s.Action].flat().includes(action));
    expect(allowing("states:StartExecution").map((s) => s.Resource)).toEqual([
      { Ref: expect.stringMatching(/^MigrationStateMachine/) },
    ]);
    for (const action of ["states:DescribeExecution", "states:StopExecution"]) {
      const [statement] = allowing(action);
      expect(JSON.stringify(statement?.Resource), action).toContain(":execution:kubeferry-migrate:*");
    }
    for (const action of ["events:PutTargets", "events:PutRule", "events:DescribeRule"]) {
      const [statement] = allowing(action);
      expect(JSON.stringify(statement?.Resource), action).toContain(
        ":rule/StepFunctionsGetEventsForStepFunctionsExecutionRule",
      );
    }
    const invoked = allowing("lambda:InvokeFunction").flatMap((s) => s.Resource);
    expect(invoked.map((r: any) => r["Fn::GetAtt"][0])).toEqual(
      [
        "ValidateCutover",
        "PublishCutover",
        "QuiesceSource",
        "RequestApproval",
        "ActivateDestination",
        "ResumeSource",
      ].map((task) => expect.stringMatching(new RegExp(`^Functions${task}`))),
    );
  });

  it("lets the approval function publish its event", () => {
    const functions = template.findResources("AWS::Lambda::Function", {
      Properties: { Description: "kubeferry RequestApproval" },
    });
    const [fn] = Object.values(functions) as any[];
    expect(fn.Properties.Environment.Variables.KUBEFERRY_EVENT_BUS).toBeDefined();
  });
});
