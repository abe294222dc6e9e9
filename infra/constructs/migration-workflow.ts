import { join } from "node:path";
import { ArnFormat, Stack, Validations } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import * as sfn from "aws-cdk-lib/aws-stepfunctions";
import { Construct } from "constructs";
import type { TaskName } from "../../functions/lib/workflow/task-catalog.ts";
import { nagArn } from "../nag-findings.ts";
import type { StagingStore } from "./staging-store.ts";

export interface StateMachineFromAslProps {
  /** Fixed name: a Distributed Map's role must name the machine before the machine exists. */
  stateMachineName: string;
  /** File name under statemachines/. */
  definitionFile: string;
  functions: Record<TaskName, lambda.IFunction>;
  /** Task functions the definition uses: the machine may invoke these and no others. */
  tasks: readonly TaskName[];
  /** Whether the definition has a Distributed Map, which starts child executions of the machine. */
  distributedMap: boolean;
  /**
   * Where a Distributed Map's ItemReader reads its items: the definition's `${StagingBucketName}`,
   * and the run plans under the repository prefix the machine may read (s3:GetObject, SSE-KMS).
   */
  itemSource?: { staging: StagingStore; repositoryPrefix: string };
  /**
   * Machines the definition runs as nested executions (`states:startExecution.sync:2`), by the
   * substitution that names each one's ARN, e.g. `{ MigrationStateMachineArn: migration }`.
   */
  nestedMachines?: Record<string, StateMachineFromAsl>;
}

const statemachinesDir = join(import.meta.dirname, "..", "..", "statemachines");

/** A state machine whose definition is an ASL file, with every `${<Task>FunctionArn}` substituted. */
export class StateMachineFromAsl extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly stateMachineName: string;

  constructor(scope: Construct, id: string, props: StateMachineFromAslProps) {
    super(scope, id);
    this.stateMachineName = props.stateMachineName;
    const role = new iam.Role(this, "Role", { assumedBy: new iam.ServicePrincipal("states.amazonaws.com") });
    const invoked = props.tasks.map((task) => props.functions[task]);
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ["lambda:InvokeFunction"],
        resources: invoked.map((f) => f.functionArn),
      }),
    );
    const logGroup = new logs.LogGroup(this, "Logs", { retention: logs.RetentionDays.THREE_MONTHS });

    this.stateMachine = new sfn.StateMachine(this, "StateMachine", {
      definitionBody: sfn.DefinitionBody.fromFile(join(statemachinesDir, props.definitionFile)),
      definitionSubstitutions: {
        ...Object.fromEntries(
          props.tasks.map((task) => [`${task}FunctionArn`, props.functions[task].functionArn]),
        ),
        ...(props.itemSource && { StagingBucketName: props.itemSource.staging.bucket.bucketName }),
        ...Object.fromEntries(
          Object.entries(props.nestedMachines ?? {}).map(([name, nested]) => [
            name,
            nested.stateMachine.stateMachineArn,
          ]),
        ),
      },
      stateMachineName: props.stateMachineName,
      role,
      tracingEnabled: true,
      // One logging configuration covers a machine's executions and its Map Runs' child executions
      // (thousands per large run, dozens of events each): errors only, without state data, keep
      // CloudWatch's bill flat; every execution's full history stays in Step Functions (90 days).
      logs: { destination: logGroup, level: sfn.LogLevel.ERROR, includeExecutionData: false },
    });

    Validations.of(this.stateMachine).acknowledge({
      id: "AwsSolutions-SF1",
      reason:
        "ALL would log every event of every Map Run child execution (thousands per large run); each execution's full history stays in Step Functions.",
    });
    if (props.itemSource) grantPlanReads(role, props.itemSource);
    for (const nested of Object.values(props.nestedMachines ?? {})) grantNestedRuns(role, nested);
    const policy = role.node.findChild("DefaultPolicy");
    if (props.distributedMap) {
      // A Distributed Map runs each batch as a child execution of this same machine.
      const stack = Stack.of(this);
      const arn = (resource: string, resourceName: string) =>
        stack.formatArn({
          service: "states",
          resource,
          resourceName,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        });
      const executions = arn("execution", `${props.stateMachineName}/*`);
      role.addToPolicy(
        new iam.PolicyStatement({
          actions: ["states:StartExecution"],
          resources: [arn("stateMachine", props.stateMachineName)],
        }),
      );
      role.addToPolicy(
        new iam.PolicyStatement({
          // RedriveExecution: a redriven run redrives its Map Run's failed child executions.
          actions: ["states:DescribeExecution", "states:StopExecution", "states:RedriveExecution"],
          resources: [executions],
        }),
      );
      Validations.of(policy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${nagArn(stack, "states", `execution:${props.stateMachineName}/*`)}]`,
        reason: "Map Run child executions get generated names under the machine's own execution prefix.",
      });
    }
    Validations.of(policy).acknowledge({
      id: "AwsSolutions-IAM5[Resource::*]",
      reason:
        "Step Functions log delivery (logs:*LogDelivery*, DescribeLogGroups) and X-Ray writes support no resource-level permissions.",
    });
  }
}

/** Run plans are at `<prefix>/<pair>/runs/<run>/plans/`; the machine reads those and no chunk or manifest. */
export const planObjectsPattern = (repositoryPrefix: string) => `${repositoryPrefix}/*/runs/*/plans/*`;

function grantPlanReads(
  role: iam.Role,
  { staging, repositoryPrefix }: NonNullable<StateMachineFromAslProps["itemSource"]>,
) {
  const stack = Stack.of(role);
  role.addToPolicy(
    new iam.PolicyStatement({
      actions: ["s3:GetObject"],
      resources: [staging.bucket.arnForObjects(planObjectsPattern(repositoryPrefix))],
    }),
  );
  role.addToPolicy(
    new iam.PolicyStatement({
      // The bucket's SSE-KMS on GetObject: only through S3.
      actions: ["kms:Decrypt"],
      resources: [staging.key.keyArn],
      conditions: { StringEquals: { "kms:ViaService": `s3.${stack.region}.${stack.urlSuffix}` } },
    }),
  );
  Validations.of(role.node.findChild("DefaultPolicy")).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(staging.bucket.node.defaultChild as never)}.Arn>/${planObjectsPattern(repositoryPrefix)}]`,
    reason:
      "Run plans are written at run time under each pair's and run's prefix; only plan objects are readable.",
  });
}

/**
 * What `startExecution.sync:2` needs (https://docs.aws.amazon.com/step-functions/latest/dg/stepfunctions-iam.html):
 * start the child machine, describe and stop its executions, and the managed rule through which
 * Step Functions learns that a child ended.
 */
function grantNestedRuns(role: iam.Role, nested: StateMachineFromAsl) {
  const stack = Stack.of(role);
  const executions = `execution:${nested.stateMachineName}:*`;
  const managedRule = "rule/StepFunctionsGetEventsForStepFunctionsExecutionRule";
  role.addToPolicy(
    new iam.PolicyStatement({
      actions: ["states:StartExecution"],
      resources: [nested.stateMachine.stateMachineArn],
    }),
  );
  role.addToPolicy(
    new iam.PolicyStatement({
      actions: ["states:DescribeExecution", "states:StopExecution"],
      resources: [
        stack.formatArn({
          service: "states",
          resource: "execution",
          resourceName: `${nested.stateMachineName}:*`,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ],
    }),
  );
  role.addToPolicy(
    new iam.PolicyStatement({
      actions: ["events:PutTargets", "events:PutRule", "events:DescribeRule"],
      resources: [stack.formatArn({ service: "events", resource: managedRule })],
    }),
  );
  Validations.of(role.node.findChild("DefaultPolicy")).acknowledge({
    id: `AwsSolutions-IAM5[Resource::${nagArn(stack, "states", executions)}]`,
    reason: "Nested migrations are named per cutover run at start time, under the migration machine.",
  });
}
