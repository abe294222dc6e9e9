import { Validations } from "aws-cdk-lib";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as scheduler from "aws-cdk-lib/aws-scheduler";
import * as sqs from "aws-cdk-lib/aws-sqs";
import type * as sfn from "aws-cdk-lib/aws-stepfunctions";
import { Construct } from "constructs";
import type { StartRunEnvironment } from "../../functions/lib/workflow/environment.ts";
import { eventSource, migrationRequestedDetailType } from "../../functions/lib/workflow/events.ts";
import type { TriggeredRun } from "../../functions/lib/workflow/triggered-run.ts";
import type { ScheduleConfig } from "../config.ts";
import type { WorkflowFunctions } from "./workflow-functions.ts";

export interface TriggersProps {
  eventBus: events.IEventBus;
  migration: sfn.IStateMachine;
  schedules: readonly ScheduleConfig[];
  functions: WorkflowFunctions;
}

/**
 * What starts a migration besides the console and the CLI: `Migration Requested` events on
 * the kubeferry bus, and EventBridge Scheduler schedules for DR replication. Both deliver at
 * least once, so neither starts the state machine itself (a rule's Step Functions target cannot
 * name the execution, and a scheduled time's ':' is not allowed in a name): they invoke the
 * StartRun function with the trigger's identity — the event's id, the schedule's scheduled time —
 * and it starts the run under a name derived from it, so a repeated delivery starts nothing
 * (functions/lib/workflow/triggered-run.ts).
 */
export class Triggers extends Construct {
  readonly requestRule: events.Rule;
  readonly deadLetters: sqs.Queue;
  readonly schedulerRole: iam.Role;
  readonly startRun: lambda.Function;

  constructor(scope: Construct, id: string, props: TriggersProps) {
    super(scope, id);

    this.deadLetters = new sqs.Queue(this, "DeadLetters", {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    Validations.of(this.deadLetters).acknowledge({
      id: "AwsSolutions-SQS3",
      reason: "This queue is itself the dead-letter queue of the schedules and the request rule.",
    });

    const environment: StartRunEnvironment = {
      KUBEFERRY_MIGRATION_STATE_MACHINE_ARN: props.migration.stateMachineArn,
    };
    this.startRun = props.functions.addFunction("StartRun", {
      handlerFile: "start-run.ts",
      memoryMiB: 256,
      timeoutSeconds: 30,
      environment: { ...environment },
      repository: false,
      description: "kubeferry starts a triggered migration under the trigger's name",
    });
    props.migration.grantStartExecution(this.startRun);

    this.requestRule = new events.Rule(this, "MigrationRequested", {
      eventBus: props.eventBus,
      description: "Start a migration from a kubeferry Migration Requested event; the detail is the request.",
      eventPattern: { source: [eventSource], detailType: [migrationRequestedDetailType] },
      targets: [
        new targets.LambdaFunction(this.startRun, {
          event: events.RuleTargetInput.fromObject({
            trigger: { eventId: events.EventField.eventId },
            request: events.EventField.fromPath("$.detail"),
          }),
          deadLetterQueue: this.deadLetters,
          retryAttempts: 2,
        }),
      ],
    });

    // Also used by schedules created with `kubeferry schedule create`.
    const role = new iam.Role(this, "SchedulerRole", {
      assumedBy: new iam.ServicePrincipal("scheduler.amazonaws.com"),
      description: "EventBridge Scheduler starts kubeferry migrations",
    });
    // The function itself, not `<arn>:*` (grantInvoke's versions and aliases): none are published.
    role.addToPolicy(
      new iam.PolicyStatement({ actions: ["lambda:InvokeFunction"], resources: [this.startRun.functionArn] }),
    );
    this.deadLetters.grantSendMessages(role);
    this.schedulerRole = role;
    for (const schedule of props.schedules) {
      new scheduler.CfnSchedule(this, `Schedule${schedule.name}`, {
        name: `kubeferry-${schedule.name}`,
        description: `kubeferry DR ${schedule.request.drill ? "drill" : "replication"} of ${schedule.request.namespaces.join(", ")} over pair ${schedule.request.pair}`,
        scheduleExpression: schedule.expression,
        scheduleExpressionTimezone: schedule.timezone,
        flexibleTimeWindow: { mode: "OFF" },
        target: {
          arn: this.startRun.functionArn,
          roleArn: role.roleArn,
          input: JSON.stringify({
            trigger: { schedule: schedule.name, scheduledTime: "<aws.scheduler.scheduled-time>" },
            request: schedule.request,
          } satisfies TriggeredRun),
          retryPolicy: {
            maximumRetryAttempts: schedule.retry.maximumRetryAttempts,
            maximumEventAgeInSeconds: schedule.retry.maximumEventAgeSeconds,
          },
          deadLetterConfig: { arn: this.deadLetters.queueArn },
        },
      });
    }
  }
}
