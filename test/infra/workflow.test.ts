import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Match } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { helperPodLifetimeSeconds } from "../../functions/lib/volumes/helper-pod.ts";
import {
  endingStatuses,
  executionStatusChangeDetailType,
  workflowFailErrors,
} from "../../functions/lib/workflow/execution-ending.ts";
import { migrationRequestSchema } from "../../functions/lib/workflow/request.ts";
import { runLockTtlMs } from "../../functions/lib/workflow/run-locks.ts";
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
      // Named errors with their own path may come first; the last catcher takes everything else.
      const last = state.Catch?.at(-1);
      expect(last?.ErrorEquals, name).toEqual(["States.ALL"]);
      for (const catcher of state.Catch)
        expect(terminal.has(catcher.Next) || definition.States[catcher.Next], name).toBeTruthy();
    }
    expect(definition.TimeoutSeconds).toBeGreaterThan(0);
    expect(definition.QueryLanguage).toBe("JSONPath");
  });
});

describe("migrate.asl.json standby in use", () => {
  it("ends Skipped after cleaning up and releasing the locks, with the reason published", () => {
    const states = readAsl("migrate.asl.json").States;
    expect(states.PrepareVolumes.Catch[0]).toEqual({
      ErrorEquals: ["StandbyInUse"],
      ResultPath: "$.error",
      Next: "CleanupStandbyInUse",
    });
    expect(states.CleanupStandbyInUse).toMatchObject({
      Resource: "${CleanupFunctionArn}",
      Next: "ReleaseLockStandbyInUse",
    });
    expect(states.ReleaseLockStandbyInUse).toMatchObject({
      Resource: "${ReleaseLockFunctionArn}",
      Next: "PublishStandbyInUse",
    });
    expect(states.PublishStandbyInUse).toMatchObject({
      Parameters: { "run.$": "$.run", "error.$": "$.error", outcome: "Skipped" },
      Next: "Skipped",
    });
  });
});

describe("migrate.asl.json timeout", () => {
  it("outlasts the longest snapshot wait a request may ask, and is outlived by the locks' lease and the helper pods", () => {
    const timeoutSeconds = readAsl("migrate.asl.json").TimeoutSeconds;
    const longestSnapshotWait = migrationRequestSchema.shape.snapshotTimeoutSeconds.unwrap()
      .maxValue as number;
    // A day at least remains for the bytes after the longest wait.
    expect(timeoutSeconds - longestSnapshotWait).toBeGreaterThanOrEqual(86_400);
    expect(runLockTtlMs / 1000).toBeGreaterThan(timeoutSeconds);
    expect(helperPodLifetimeSeconds).toBeGreaterThan(timeoutSeconds);
  });
});

describe("migrate.asl.json range maps", () => {
  it("run as Distributed Maps with bounded concurrency and no tolerated failures", () => {
    const maps = allStates(readAsl("migrate.asl.json")).filter(([, state]) => state.Type === "Map");
    const distributed = maps.filter(
      ([, state]) => state.ItemProcessor.ProcessorConfig.Mode === "DISTRIBUTED",
    );
    expect(distributed.map(([name]) => name).sort()).toEqual(["RestoreRanges", "StageRanges"]);
    for (const [, map] of distributed) {
      expect(map.ItemProcessor.ProcessorConfig.Mode).toBe("DISTRIBUTED");
      expect(map.MaxConcurrency).toBeGreaterThan(0);
      expect(map.ToleratedFailurePercentage).toBe(0);
    }
  });

  it("read their items from the run's plan in the bucket, in batches, and carry no plan in the state", () => {
    const definition = readAsl("migrate.asl.json");
    for (const [name, summary] of [
      ["StageRanges", "$.plan"],
      ["RestoreRanges", "$.restorePlan"],
    ]) {
      const map = definition.States[name as string];
      expect(map.ItemsPath, name).toBeUndefined();
      expect(map.ItemReader, name).toEqual({
        Resource: "arn:aws:states:::s3:getObject",
        ReaderConfig: { InputType: "JSON" },
        Parameters: { Bucket: "${StagingBucketName}", "Key.$": `${summary}.items` },
      });
      expect(map.ItemBatcher.MaxItemsPerBatch, name).toBeGreaterThan(1);
      expect(map.ItemBatcher.BatchInput, name).toEqual({ "run.$": "$.run", "plan.$": `${summary}.plan` });
      // A child execution's output is empty: the Map's result cannot grow with the ranges.
      const [batch] = Object.values<AslState>(map.ItemProcessor.States);
      expect(batch).toMatchObject({ Type: "Map", ItemsPath: "$.Items", ResultPath: null, OutputPath: null });
      expect(map.ResultPath, name).toBeNull();
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
      Next: "ThawAfterFailure",
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

  it("holds the post hooks until volumes read live are staged, and thaws on any failure before that", () => {
    const live = { Variable: "$.snapshots.live", NumericGreaterThan: 0 };
    expect(states.SnapshotVolumes.Next).toBe("HoldHooksForLiveVolumes");
    expect(states.HoldHooksForLiveVolumes).toMatchObject({
      Type: "Choice",
      Choices: [{ ...live, Next: "CheckSnapshots" }],
      Default: "PostHooks",
    });
    expect(states.StageRanges.Next).toBe("LiveVolumesStaged");
    expect(states.LiveVolumesStaged).toMatchObject({
      Choices: [{ ...live, Next: "PostHooksAfterStaging" }],
      Default: "CommitRun",
    });
    expect(states.PostHooksAfterStaging).toMatchObject({
      Resource: "${PostHooksFunctionArn}",
      Next: "CommitRun",
    });
    for (const name of ["CheckSnapshots", "PlanRanges", "StageRanges"]) {
      expect(
        states[name].Catch.map((c: { Next: string }) => c.Next),
        name,
      ).toEqual(["ThawAfterFailure"]);
    }
    expect(states.ThawAfterFailure).toMatchObject({
      Choices: [{ ...live, Next: "PostHooksAfterFailure" }],
      Default: "CleanupAfterFailure",
    });
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

  it("substitutes every ${…} of each definition with a function ARN or the staging bucket's name", () => {
    expect(stateMachines).toHaveLength(3);
    for (const [, machine] of stateMachines) {
      const substitutions = Object.keys(machine.Properties.DefinitionSubstitutions);
      const file = substitutions.includes("PlanRangesFunctionArn")
        ? "migrate.asl.json"
        : substitutions.includes("QuiesceSourceFunctionArn")
          ? "cutover.asl.json"
          : "activate.asl.json";
      const placeholders = new Set(
        [...readFileSync(join(root, "statemachines", file), "utf8").matchAll(/\$\{(\w+)\}/g)].map(
          (m) => m[1],
        ),
      );
      expect(new Set(substitutions)).toEqual(placeholders);
      for (const [name, value] of Object.entries<any>(machine.Properties.DefinitionSubstitutions)) {
        if (name === "StagingBucketName") expect(value.Ref).toMatch(/^StagingBucket/);
        // The cutover's nested migrations name the migration machine.
        else if (name === "MigrationStateMachineArn") expect(value.Ref).toMatch(/^MigrationStateMachine/);
        else expect(value["Fn::GetAtt"]?.[1]).toBe("Arn");
      }
      expect(machine.Properties.LoggingConfiguration).toMatchObject({
        Level: "ERROR",
        IncludeExecutionData: false,
      });
      expect(machine.Properties.TracingConfiguration.Enabled).toBe(true);
    }
  });

  it("lets each state machine invoke its own functions and nothing else", () => {
    for (const [, machine] of stateMachines) {
      const roleId = machine.Properties.RoleArn["Fn::GetAtt"][0];
      const functionIds = new Set(
        Object.values<any>(machine.Properties.DefinitionSubstitutions)
          .filter((v) => v["Fn::GetAtt"])
          .map((v) => v["Fn::GetAtt"][0]),
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

  it("has one nodejs24.x arm64 traced function per Task, plus the trigger starter and the scheduled GC", () => {
    const functions = Object.values(resources).filter((r) => r.Type === "AWS::Lambda::Function");
    expect(functions).toHaveLength(Object.keys(taskCatalog).length + 2);
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
      // Only the session's own repository (test/infra/repository-key.test.ts).
      const withContext =
        statement.Condition?.StringEquals?.["kms:EncryptionContext:kubeferry:repository"] ===
        "${aws:PrincipalTag/kubeferry-repository}";
      expect(viaS3 !== undefined || withContext, JSON.stringify(statement)).toBe(true);
    }
  });

  it("lets the migration read its Maps' items from run plans, and no other object of the bucket", () => {
    const migration = stateMachines.find(([id]) => id.startsWith("Migration"))?.[1];
    const statements = policyStatements(migration?.Properties.RoleArn["Fn::GetAtt"][0]);
    const reads = statements.filter((s: any) => [s.Action].flat().some((a: string) => a.startsWith("s3:")));
    expect(reads).toHaveLength(1);
    expect(reads[0].Action).toBe("s3:GetObject");
    expect(JSON.stringify(reads[0].Resource)).toMatch(/"\/repositories\/\*\/runs\/\*\/plans\/\*"/);
    const decrypt = statements.find((s: any) => [s.Action].flat().includes("kms:Decrypt"));
    expect(decrypt?.Condition?.StringEquals?.["kms:ViaService"]).toBeDefined();
    const activation = stateMachines.find(([id]) => id.startsWith("Activation"))?.[1];
    const activationActions = policyStatements(activation?.Properties.RoleArn["Fn::GetAtt"][0]).flatMap(
      (s: any) => [s.Action].flat(),
    );
    expect(activationActions.some((a: string) => a.startsWith("s3:") || a.startsWith("kms:"))).toBe(false);
  });

  it("lets the migration redrive its Map Run child executions", () => {
    const migration = stateMachines.find(([id]) => id.startsWith("Migration"))?.[1];
    const statements = policyStatements(migration?.Properties.RoleArn["Fn::GetAtt"][0]);
    expect(statements.flatMap((s: any) => [s.Action].flat())).toContain("states:RedriveExecution");
  });

  it("sends every FAILED, TIMED_OUT and ABORTED ending of the workflows to the Compensate function", () => {
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
    expect(resourcesText).toContain("execution:kubeferry-cutover:*");
  });

  it("grants no service-wide wildcard actions", () => {
    const actions = Object.values(resources)
      .filter((r) => r.Type === "AWS::IAM::Policy")
      .flatMap((p) => p.Properties.PolicyDocument.Statement.flatMap((s: any) => [s.Action].flat()));
    expect(actions.length).toBeGreaterThan(0);
    for (const action of actions) expect(action).not.toMatch(/^[a-z0-9-]+:\*$/);
  });

  it("starts a migration from a Migration Requested event, named after the event's id, with the detail as request", () => {
    template.hasResourceProperties("AWS::Events::EventBus", { Name: "kubeferry" });
    template.hasResourceProperties("AWS::Events::Rule", {
      EventPattern: { source: ["kubeferry"], "detail-type": ["Migration Requested"] },
      Targets: [
        Match.objectLike({
          Arn: { "Fn::GetAtt": [Match.stringLikeRegexp("StartRun"), "Arn"] },
          InputTransformer: {
            InputPathsMap: { id: "$.id", detail: "$.detail" },
            InputTemplate: '{"trigger":{"eventId":<id>},"request":<detail>}',
          },
          DeadLetterConfig: Match.anyValue(),
        }),
      ],
    });
  });

  it("declares the configured DR schedule, named after its scheduled time, with its request", () => {
    template.hasResourceProperties("AWS::Scheduler::Schedule", {
      Name: "kubeferry-shop-dr",
      ScheduleExpression: "rate(15 minutes)",
      ScheduleExpressionTimezone: "Europe/Berlin",
      FlexibleTimeWindow: { Mode: "OFF" },
      Target: Match.objectLike({
        Arn: { "Fn::GetAtt": [Match.stringLikeRegexp("StartRun"), "Arn"] },
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
        DeadLetterConfig: { Arn: Match.anyValue() },
      }),
    });
    const schedule = Object.values(resources).find(
      (r) => r.Type === "AWS::Scheduler::Schedule" && r.Properties.Name === "kubeferry-shop-dr",
    );
    const input = JSON.parse(schedule?.Properties.Target.Input);
    expect(input.trigger).toEqual({ schedule: "shop-dr", scheduledTime: "<aws.scheduler.scheduled-time>" });
    expect(input.request).toMatchObject({
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
