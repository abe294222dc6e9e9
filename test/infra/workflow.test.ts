import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Match } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import {
  endingStatuses,
  executionStatusChangeDetailType,
  workflowFailErrors,
} from "../../functions/lib/workflow/execution-ending.ts";
import { handlerFileName, type TaskName, taskCatalog } from "../../functions/lib/workflow/task-catalog.ts";
import { synthesize } from "./synthesize.ts";

const root = join(import.meta.dirname, "..", "..");
const aslFiles = ["migrate.asl.json", "activate.asl.json"];

type AslState = Record<string, any>;
function readAsl(file: string) {
  return JSON.parse(readFileSync(join(root, "statemachines", file), "utf8"));
}
function allStates(definition: { States: Record<string, AslState> }): Array<[string, AslState]> {
  return Object.entries(definition.States).flatMap(([name, state]) => [
    [name, state] as [string, AslState],
    ...(state.ItemProcessor ? allStates(state.ItemProcessor) : []),
  ]);
}
const taskOf = (state: AslState) =>
  /^\$\{(\w+)FunctionArn\}$/.exec(state.Resource)?.[1] as TaskName | undefined;

describe.each(aslFiles)("%s", (file) => {
  const definition = readAsl(file);
  const tasks = allStates(definition).filter(([, state]) => state.Type === "Task");

  it("invokes only Tasks that have a handler", () => {
    for (const [name, state] of tasks) {
      const task = taskOf(state);
      expect(task, `${name} resource ${state.Resource}`).toBeDefined();
      expect(taskCatalog).toHaveProperty(task as string);
      expect(existsSync(join(root, "functions", "handlers", `${handlerFileName(task as TaskName)}.ts`))).toBe(
        true,
      );
    }
  });

  it("gives every Task a timeout longer than its function's and a jittered retry of transient errors", () => {
    for (const [name, state] of tasks) {
      const task = taskOf(state) as TaskName;
      // Equal timeouts let States.Timeout fire first and retry while the first invocation still runs.
      expect(state.TimeoutSeconds, name).toBeGreaterThan(taskCatalog[task].timeoutSeconds);
      const transient = state.Retry?.find((retry: AslState) =>
        retry.ErrorEquals.includes("Lambda.TooManyRequestsException"),
      );
      expect(transient, name).toMatchObject({ JitterStrategy: "FULL" });
      expect(transient.ErrorEquals).toContain("Lambda.ClientExecutionTimeoutException");
    }
  });

  it("never retries a hook Task after a timeout or an unknown Lambda failure: its commands may have run", () => {
    for (const [name, state] of tasks.filter(([, state]) => /Hooks/.test(state.Resource))) {
      const retried = (state.Retry ?? []).flatMap((retry: AslState) => retry.ErrorEquals);
      expect(retried, name).not.toContain("States.Timeout");
      expect(retried, name).not.toContain("Sandbox.Timedout");
      expect(retried, name).not.toContain("Lambda.Unknown");
      expect(retried, name).not.toContain("States.ALL");
    }
  });

  it("retries a timed-out or unknown failure of every other Task", () => {
    for (const [name, state] of tasks.filter(([, state]) => !/Hooks/.test(state.Resource))) {
      const retried = (state.Retry ?? []).flatMap((retry: AslState) => retry.ErrorEquals);
      // A function timeout surfaces as Sandbox.Timedout; the step is idempotent, so one more try is safe.
      expect(retried, name).toEqual(
        expect.arrayContaining(["States.Timeout", "Sandbox.Timedout", "Lambda.Unknown"]),
      );
    }
  });

  it("routes every failure of the main path to the failure path", () => {
    const terminal = new Set(["Failed", "Succeeded", "Skipped"]);
    for (const [name, state] of Object.entries<AslState>(definition.States)) {
      if (state.Type !== "Task" && state.Type !== "Map") continue;
      if (name.startsWith("Publish") && !state.Catch) continue;
      expect(state.Catch?.[0]?.ErrorEquals, name).toEqual(["States.ALL"]);
      expect(terminal.has(state.Catch[0].Next) || definition.States[state.Catch[0].Next], name).toBeTruthy();
    }
    expect(definition.TimeoutSeconds).toBeGreaterThan(0);
    expect(definition.QueryLanguage).toBe("JSONPath");
  });
});

describe("migrate.asl.json range maps", () => {
  it("run as Distributed Maps with bounded concurrency and no tolerated failures", () => {
    const maps = allStates(readAsl("migrate.asl.json")).filter(([, state]) => state.Type === "Map");
    expect(maps.map(([name]) => name).sort()).toEqual(["RestoreRanges", "StageRanges"]);
    for (const [, map] of maps) {
      expect(map.ItemProcessor.ProcessorConfig.Mode).toBe("DISTRIBUTED");
      expect(map.MaxConcurrency).toBeGreaterThan(0);
      expect(map.ToleratedFailurePercentage).toBe(0);
    }
  });
});

describe("migrate.asl.json snapshot wait", () => {
  const states = readAsl("migrate.asl.json").States;

  it("loops CheckSnapshots → Choice → Wait (carried wait, deadline from SnapshotVolumes) before PlanRanges", () => {
    expect(states.PostHooks.Next).toBe("CheckSnapshots");
    expect(states.CheckSnapshots).toMatchObject({
      Type: "Task",
      Resource: "${CheckSnapshotsFunctionArn}",
      ResultPath: "$.snapshotCheck",
      Next: "SnapshotsReady",
    });
    expect(states.CheckSnapshots.Catch[0]).toMatchObject({
      ErrorEquals: ["States.ALL"],
      Next: "CleanupAfterFailure",
    });
    expect(states.SnapshotsReady).toEqual({
      Type: "Choice",
      Choices: [{ Variable: "$.snapshotCheck.ready", BooleanEquals: true, Next: "PlanRanges" }],
      Default: "WaitForSnapshots",
    });
    expect(states.WaitForSnapshots).toEqual({
      Type: "Wait",
      SecondsPath: "$.snapshotCheck.waitSeconds",
      Next: "CheckSnapshots",
    });
    expect(states.SnapshotVolumes.ResultPath).toBe("$.snapshots");
  });
});

describe.each(aslFiles)("%s ending", (file) => {
  it("fails with the Error the compensation knows as already compensated", () => {
    const fails = Object.values<AslState>(readAsl(file).States).filter((state) => state.Type === "Fail");
    expect(fails.length).toBeGreaterThan(0);
    for (const fail of fails) expect(workflowFailErrors).toContain(fail.Error);
  });
});

describe("synthesized workflow", () => {
  const { template } = synthesize({
    schedules: [
      {
        name: "shop-dr",
        expression: "rate(15 minutes)",
        timezone: "Europe/Berlin",
        request: { pair: "onprem-to-west", namespaces: ["shop"] },
      },
    ],
  });
  const resources = template.toJSON().Resources as Record<string, AslState>;
  const stateMachines = Object.entries(resources).filter(
    ([, r]) => r.Type === "AWS::StepFunctions::StateMachine",
  );

  it("substitutes every ${…} of each definition with a function ARN", () => {
    expect(stateMachines).toHaveLength(2);
    for (const [, machine] of stateMachines) {
      const substitutions = Object.keys(machine.Properties.DefinitionSubstitutions);
      const file = substitutions.includes("PlanRangesFunctionArn") ? "migrate.asl.json" : "activate.asl.json";
      const placeholders = new Set(
        [...readFileSync(join(root, "statemachines", file), "utf8").matchAll(/\$\{(\w+)\}/g)].map(
          (m) => m[1],
        ),
      );
      expect(new Set(substitutions)).toEqual(placeholders);
      for (const value of Object.values<any>(machine.Properties.DefinitionSubstitutions)) {
        expect(value["Fn::GetAtt"]?.[1]).toBe("Arn");
      }
      expect(machine.Properties.LoggingConfiguration.Level).toBe("ALL");
      expect(machine.Properties.TracingConfiguration.Enabled).toBe(true);
    }
  });

  it("lets each state machine invoke its own functions and nothing else", () => {
    for (const [, machine] of stateMachines) {
      const roleId = machine.Properties.RoleArn["Fn::GetAtt"][0];
      const functionIds = new Set(
        Object.values<any>(machine.Properties.DefinitionSubstitutions).map((v) => v["Fn::GetAtt"][0]),
      );
      const policies = Object.values(resources).filter(
        (r) => r.Type === "AWS::IAM::Policy" && r.Properties.Roles.some((role: any) => role.Ref === roleId),
      );
      const invoke = policies
        .flatMap((p) => p.Properties.PolicyDocument.Statement)
        .filter((s: any) => [s.Action].flat().includes("lambda:InvokeFunction"));
      expect(invoke).toHaveLength(1);
      const invoked = new Set(invoke[0].Resource.map((r: any) => r["Fn::GetAtt"][0]));
      expect(invoked).toEqual(functionIds);
    }
  });

  it("has one nodejs24.x arm64 traced function per Task", () => {
    const functions = Object.values(resources).filter((r) => r.Type === "AWS::Lambda::Function");
    expect(functions).toHaveLength(Object.keys(taskCatalog).length);
    for (const fn of functions) {
      expect(fn.Properties).toMatchObject({
        Runtime: "nodejs24.x",
        Architectures: ["arm64"],
        TracingConfig: { Mode: "Active" },
      });
    }
  });

  const policyStatements = (roleLogicalId: string) =>
    Object.values(resources)
      .filter(
        (r) =>
          r.Type === "AWS::IAM::Policy" && r.Properties.Roles.some((role: any) => role.Ref === roleLogicalId),
      )
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
  const roleOf = (task: string) =>
    Object.entries(resources).find(
      ([id, r]) =>
        r.Type === "AWS::Lambda::Function" && id.startsWith(`Functions${task}`) && !id.includes("Logs"),
    )?.[1].Properties.Role["Fn::GetAtt"][0];

  it("runs every cluster-talking Task as one shared role, output by the stack, that may describe EKS clusters", () => {
    const clusterTasks = Object.entries(taskCatalog).filter(([, sizing]) => sizing.clusters);
    const shared = new Set(clusterTasks.map(([task]) => roleOf(task)));
    expect(shared.size).toBe(1);
    const roleId = [...shared][0] as string;
    expect(template.toJSON().Outputs.ClusterAccessRoleArn.Value).toEqual({ "Fn::GetAtt": [roleId, "Arn"] });
    const describe = policyStatements(roleId).find((s: any) =>
      [s.Action].flat().includes("eks:DescribeCluster"),
    );
    expect(describe).toBeDefined();
    for (const [task, sizing] of Object.entries(taskCatalog).filter(([, sizing]) => !sizing.clusters)) {
      expect(roleOf(task), task).not.toBe(roleId);
      const actions = policyStatements(roleOf(task)).flatMap((s: any) => [s.Action].flat());
      expect(actions, task).not.toContain("eks:DescribeCluster");
      expect(actions.includes("events:PutEvents"), task).toBe(sizing.environment === "publish");
    }
  });

  it("uses the KMS key only through S3 or with a repository's encryption context, and never Encrypt", () => {
    const kms = Object.values(resources)
      .filter((r) => r.Type === "AWS::IAM::Policy")
      .flatMap((p) => p.Properties.PolicyDocument.Statement)
      .filter((s: any) => [s.Action].flat().some((a: string) => a.startsWith("kms:")));
    expect(kms.length).toBeGreaterThan(0);
    for (const statement of kms) {
      expect([statement.Action].flat()).not.toContain("kms:Encrypt");
      const viaS3 = statement.Condition?.StringEquals?.["kms:ViaService"];
      const withContext =
        statement.Condition?.Null?.["kms:EncryptionContext:kubeferry:repository"] === "false";
      expect(viaS3 !== undefined || withContext, JSON.stringify(statement)).toBe(true);
    }
  });

  it("lets the migration redrive its Map Run child executions", () => {
    const migration = stateMachines.find(([id]) => id.startsWith("Migration"))?.[1];
    const statements = policyStatements(migration?.Properties.RoleArn["Fn::GetAtt"][0]);
    expect(statements.flatMap((s: any) => [s.Action].flat())).toContain("states:RedriveExecution");
  });

  it("sends every FAILED, TIMED_OUT and ABORTED ending of both workflows to the Compensate function", () => {
    const rules = Object.values(resources).filter(
      (r) => r.Type === "AWS::Events::Rule" && r.Properties.EventPattern?.source?.includes("aws.states"),
    );
    expect(rules).toHaveLength(1);
    const rule = rules[0] as AslState;
    // The default bus: Step Functions sends status changes there only.
    expect(rule.Properties.EventBusName).toBeUndefined();
    expect(rule.Properties.EventPattern["detail-type"]).toEqual([executionStatusChangeDetailType]);
    expect([...rule.Properties.EventPattern.detail.status].sort()).toEqual([...endingStatuses].sort());
    const machineIds = stateMachines.map(([id]) => id).sort();
    expect(rule.Properties.EventPattern.detail.stateMachineArn.map((arn: any) => arn.Ref).sort()).toEqual(
      machineIds,
    );
    const compensateId = Object.entries(resources).find(
      ([id, r]) => r.Type === "AWS::Lambda::Function" && id.startsWith("FunctionsCompensate"),
    )?.[0];
    expect(rule.Properties.Targets).toHaveLength(1);
    const target = rule.Properties.Targets[0];
    expect(target.Arn).toEqual({ "Fn::GetAtt": [compensateId, "Arn"] });
    expect(target.RetryPolicy.MaximumRetryAttempts).toBeGreaterThan(0);
    expect(target.DeadLetterConfig.Arn).toBeDefined();
    // EventBridge may invoke it, from this rule only.
    const permission = Object.values(resources).find(
      (r) =>
        r.Type === "AWS::Lambda::Permission" && r.Properties.FunctionName["Fn::GetAtt"]?.[0] === compensateId,
    );
    expect(permission?.Properties).toMatchObject({
      Action: "lambda:InvokeFunction",
      Principal: "events.amazonaws.com",
      SourceArn: { "Fn::GetAtt": [expect.stringMatching(/^EndingsExecutionEnded/), "Arn"] },
    });
  });

  it("lets the compensation clean up, release, publish and read a failed execution's input, and nothing more of Step Functions", () => {
    const role = resources[roleOf("Compensate")];
    expect(role).toBeDefined();
    const actions = policyStatements(roleOf("Compensate")).flatMap((s: any) => [s.Action].flat());
    expect(actions).toEqual(
      expect.arrayContaining(["events:PutEvents", "s3:PutObject", "eks:DescribeCluster"]),
    );
    const describe = policyStatements(roleOf("Compensate")).filter((s: any) =>
      [s.Action].flat().some((a: string) => a.startsWith("states:")),
    );
    expect(describe.flatMap((s: any) => [s.Action].flat())).toEqual(["states:DescribeExecution"]);
    const resourcesText = JSON.stringify(describe[0].Resource);
    expect(resourcesText).toContain("execution:kubeferry-migrate:*");
    expect(resourcesText).toContain("execution:kubeferry-activate:*");
  });

  it("grants no service-wide wildcard actions", () => {
    const actions = Object.values(resources)
      .filter((r) => r.Type === "AWS::IAM::Policy")
      .flatMap((p) => p.Properties.PolicyDocument.Statement.flatMap((s: any) => [s.Action].flat()));
    expect(actions.length).toBeGreaterThan(0);
    for (const action of actions) expect(action).not.toMatch(/^[a-z0-9-]+:\*$/);
  });

  it("starts a migration from a Migration Requested event with the detail as input", () => {
    template.hasResourceProperties("AWS::Events::EventBus", { Name: "kubeferry" });
    template.hasResourceProperties("AWS::Events::Rule", {
      EventPattern: { source: ["kubeferry"], "detail-type": ["Migration Requested"] },
      Targets: [
        Match.objectLike({
          Arn: { Ref: Match.stringLikeRegexp("MigrationStateMachine") },
          InputPath: "$.detail",
          DeadLetterConfig: Match.anyValue(),
        }),
      ],
    });
  });

  it("declares the configured DR schedule against the migration with its request", () => {
    template.hasResourceProperties("AWS::Scheduler::Schedule", {
      Name: "kubeferry-shop-dr",
      ScheduleExpression: "rate(15 minutes)",
      ScheduleExpressionTimezone: "Europe/Berlin",
      FlexibleTimeWindow: { Mode: "OFF" },
      Target: Match.objectLike({
        Arn: { Ref: Match.stringLikeRegexp("MigrationStateMachine") },
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
        DeadLetterConfig: { Arn: Match.anyValue() },
      }),
    });
    const schedule = Object.values(resources).find((r) => r.Type === "AWS::Scheduler::Schedule");
    expect(JSON.parse(schedule?.Properties.Target.Input)).toMatchObject({
      pair: "onprem-to-west",
      namespaces: ["shop"],
      startApplications: false,
    });
  });

  it("alarms on failed and timed-out executions", () => {
    for (const metric of ["ExecutionsFailed", "ExecutionsTimedOut"]) {
      template.hasResourceProperties("AWS::CloudWatch::Alarm", {
        MetricName: metric,
        Namespace: "AWS/States",
        Threshold: 1,
      });
    }
    template.resourceCountIs("AWS::CloudWatch::Dashboard", 1);
  });
});

describe("private cluster endpoints", () => {
  it("puts every function in the configured subnets", () => {
    const { template } = synthesize({
      vpc: {
        vpcId: "vpc-0123456789abcdef0",
        availabilityZones: ["eu-west-1a"],
        privateSubnetIds: ["subnet-0123456789abcdef0"],
      },
    });
    const functions = Object.values(template.toJSON().Resources as Record<string, AslState>).filter(
      (r) => r.Type === "AWS::Lambda::Function",
    );
    for (const fn of functions)
      expect(fn.Properties.VpcConfig.SubnetIds).toEqual(["subnet-0123456789abcdef0"]);
  });
});
