import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { metricNames, metricsNamespace } from "../../functions/lib/workflow/metrics.ts";
import { synthesize } from "./synthesize.ts";

type Resource = { Type: string; Properties: Record<string, any> };

const states = JSON.parse(
  readFileSync(join(import.meta.dirname, "..", "..", "statemachines", "migrate.asl.json"), "utf8"),
).States;

const drillCheck = {
  podSelector: "app=ledger",
  container: "db",
  command: ["sh", "-c", "pg_isready -h 127.0.0.1"],
};
const { template } = synthesize({
  schedules: [
    {
      name: "ledger-drill",
      expression: "cron(0 4 ? * MON *)",
      request: { pair: "onprem-to-west", namespaces: ["ledger"], drill: { healthChecks: [drillCheck] } },
    },
  ],
});
const resources = template.toJSON().Resources as Record<string, Resource>;

describe("DR drills in the stack", () => {
  it("raise an alarm on one failed drill: DrillsFailed, the metric PublishResult emits, summed over 5 minutes", () => {
    const alarms = Object.values(resources).filter(
      (r) => r.Type === "AWS::CloudWatch::Alarm" && r.Properties.MetricName === metricNames.drillsFailed,
    );
    expect(alarms).toHaveLength(1);
    expect(alarms[0]?.Properties).toMatchObject({
      MetricName: "DrillsFailed",
      Namespace: metricsNamespace,
      Statistic: "Sum",
      Period: 300,
      Threshold: 1,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
      EvaluationPeriods: 1,
      // No drill ran: nothing to alarm on.
      TreatMissingData: "notBreaching",
    });
  });

  it("accept a drill request in a configured schedule, started like the DR schedules", () => {
    const schedule = Object.values(resources).find(
      (r) => r.Type === "AWS::Scheduler::Schedule" && r.Properties.Name === "kubeferry-ledger-drill",
    );
    expect(schedule?.Properties.Description).toBe("kubeferry DR drill of ledger over pair onprem-to-west");
    expect(schedule?.Properties.Target.Arn).toEqual({
      "Fn::GetAtt": [expect.stringMatching(/StartRun/), "Arn"],
    });
    const input = JSON.parse(schedule?.Properties.Target.Input);
    expect(input.request.drill).toEqual({
      healthChecks: [{ ...drillCheck, timeoutSeconds: 60 }],
      readyTimeoutSeconds: 900,
    });
  });

  it("refuses a schedule whose drill is malformed, naming the field", () => {
    expect(() =>
      synthesize({
        schedules: [
          {
            name: "bad",
            expression: "rate(1 day)",
            request: { pair: "p", namespaces: ["ledger"], drill: { readyTimeoutSeconds: 1 } },
          },
        ],
      }),
    ).toThrow(/drill\.readyTimeoutSeconds/);
  });

  it("give the workflow its drill functions", () => {
    const machine = Object.values(resources).find(
      (r) =>
        r.Type === "AWS::StepFunctions::StateMachine" &&
        r.Properties.StateMachineName === "kubeferry-migrate",
    );
    const substitutions = machine?.Properties.DefinitionSubstitutions;
    expect(substitutions).toHaveProperty("PlanDrillFunctionArn");
    expect(substitutions).toHaveProperty("CheckDrillFunctionArn");
  });
});

describe("migrate.asl.json drill mode", () => {
  it("sends a drill from pairing to PlanDrill, whose plan the restore states take as CommitRun's", () => {
    expect(states.PairClusters.Next).toBe("DrillOrMigrate");
    expect(states.DrillOrMigrate).toEqual(
      expect.objectContaining({
        Type: "Choice",
        Choices: [{ Variable: "$.run.request.drill", IsPresent: true, Next: "PlanDrill" }],
        Default: "DiscoverResources",
      }),
    );
    expect(states.PlanDrill).toMatchObject({
      Resource: "${PlanDrillFunctionArn}",
      ResultPath: "$.drill",
      Next: "DrillRestorePlan",
      Catch: [{ ErrorEquals: ["States.ALL"], Next: "CleanupAfterFailure" }],
    });
    expect(states.DrillRestorePlan).toEqual(
      expect.objectContaining({
        Type: "Pass",
        InputPath: "$.drill.plan",
        ResultPath: "$.plan",
        Next: "PrepareVolumes",
      }),
    );
  });

  it("checks the copy after Verify in a look-and-wait loop, then cleans up on both paths", () => {
    expect(states.Verify.Next).toBe("DrillOrCleanup");
    expect(states.DrillOrCleanup).toMatchObject({
      Choices: [{ Variable: "$.run.request.drill", IsPresent: true, Next: "CheckDrill" }],
      Default: "Cleanup",
    });
    expect(states.CheckDrill).toMatchObject({
      Resource: "${CheckDrillFunctionArn}",
      ResultPath: "$.drillCheck",
      Next: "DrillChecked",
      Catch: [{ ErrorEquals: ["States.ALL"], Next: "CleanupAfterFailure" }],
    });
    expect(states.DrillChecked).toMatchObject({
      Choices: [{ Variable: "$.drillCheck.done", BooleanEquals: true, Next: "Cleanup" }],
      Default: "WaitForDrill",
    });
    expect(states.WaitForDrill).toEqual({
      Type: "Wait",
      SecondsPath: "$.drillCheck.waitSeconds",
      Next: "CheckDrill",
    });
  });
});
