import { Match } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { synthesize } from "./synthesize.ts";

type Resource = { Type: string; Properties: Record<string, any> };

function resourcesOf(config?: unknown) {
  const { template } = synthesize(config);
  const resources = template.toJSON().Resources as Record<string, Resource>;
  const statementsOf = (roleId: string) =>
    Object.values(resources)
      .filter(
        (r) => r.Type === "AWS::IAM::Policy" && r.Properties.Roles.some((role: any) => role.Ref === roleId),
      )
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
  const functionId = (pattern: RegExp) =>
    Object.keys(resources).find((id) => pattern.test(id) && resources[id]?.Type === "AWS::Lambda::Function");
  return { template, resources, statementsOf, functionId };
}

describe("scheduled garbage collection", () => {
  it("runs daily by default, invoking the collection function with the default retention of 10 runs", () => {
    const { template, resources, statementsOf, functionId } = resourcesOf();
    const gc = functionId(/^FunctionsCollectGarbage/) as string;
    expect(gc).toBeDefined();
    template.hasResourceProperties("AWS::Scheduler::Schedule", {
      Name: "kubeferry-gc",
      ScheduleExpression: "rate(1 day)",
      Target: Match.objectLike({ Arn: { "Fn::GetAtt": [gc, "Arn"] }, DeadLetterConfig: Match.anyValue() }),
    });
    expect(resources[gc]?.Properties.Environment.Variables.KUBEFERRY_KEEP_RUNS).toBe("10");
    const schedule = Object.values(resources).find((r) => r.Properties.Name === "kubeferry-gc");
    const invoke = statementsOf(schedule?.Properties.Target.RoleArn["Fn::GetAtt"][0]).find(
      (s: any) => s.Action === "lambda:InvokeFunction",
    );
    expect(invoke.Resource).toEqual({ "Fn::GetAtt": [gc, "Arn"] });
  });

  it("takes the interval and the number of runs kept from the deployment configuration", () => {
    const { template, resources, functionId } = resourcesOf({
      retention: { keepRuns: 3, expression: "cron(0 3 * * ? *)" },
    });
    template.hasResourceProperties("AWS::Scheduler::Schedule", {
      Name: "kubeferry-gc",
      ScheduleExpression: "cron(0 3 * * ? *)",
    });
    const gc = functionId(/^FunctionsCollectGarbage/) as string;
    expect(resources[gc]?.Properties.Environment.Variables.KUBEFERRY_KEEP_RUNS).toBe("3");
  });

  it("refuses a retention of no runs, naming the field", () => {
    expect(() => resourcesOf({ retention: { keepRuns: 0 } })).toThrow(/retention\.keepRuns/);
  });
});

describe("trigger starter", () => {
  it("may start executions of the migration and nothing else, and is invoked by the rule and the schedules", () => {
    const { resources, statementsOf, functionId } = resourcesOf();
    const startRun = functionId(/^FunctionsStartRun/) as string;
    const role = resources[startRun]?.Properties.Role["Fn::GetAtt"][0];
    const actions = statementsOf(role).flatMap((s: any) => [s.Action].flat());
    expect(actions).toContain("states:StartExecution");
    expect(actions.filter((a: string) => !a.startsWith("logs:") && !a.startsWith("xray:"))).toEqual([
      "states:StartExecution",
    ]);
    expect(
      resources[startRun]?.Properties.Environment.Variables.KUBEFERRY_MIGRATION_STATE_MACHINE_ARN,
    ).toEqual({
      Ref: expect.stringMatching(/^MigrationStateMachine/),
    });
    const permissions = Object.values(resources).filter(
      (r) =>
        r.Type === "AWS::Lambda::Permission" && r.Properties.FunctionName["Fn::GetAtt"]?.[0] === startRun,
    );
    expect(permissions.map((p) => p.Properties.Principal)).toEqual(["events.amazonaws.com"]);
  });
});
