import { Validations } from "aws-cdk-lib";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import * as iam from "aws-cdk-lib/aws-iam";
import * as scheduler from "aws-cdk-lib/aws-scheduler";
import * as sqs from "aws-cdk-lib/aws-sqs";
import type * as sfn from "aws-cdk-lib/aws-stepfunctions";
import { Construct } from "constructs";
import { eventSource, migrationRequestedDetailType } from "../../functions/lib/workflow/events.ts";
import type { ScheduleConfig } from "../config.ts";

export interface TriggersProps {
  eventBus: events.IEventBus;
  migration: sfn.IStateMachine;
  schedules: readonly ScheduleConfig[];
}

/**
 * What starts a migration besides the console and the CLI: `Migration Requested` events on
 * the kubeferry bus, and EventBridge Scheduler schedules for DR replication.
 */
export class Triggers extends Construct {
  readonly requestRule: events.Rule;
  readonly deadLetters: sqs.Queue;
  readonly schedulerRole: iam.Role;

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

    this.requestRule = new events.Rule(this, "MigrationRequested", {
      eventBus: props.eventBus,
      description: "Start a migration from a kubeferry Migration Requested event; the detail is the request.",
      eventPattern: { source: [eventSource], detailType: [migrationRequestedDetailType] },
      targets: [
        new targets.SfnStateMachine(props.migration, {
          input: events.RuleTargetInput.fromEventPath("$.detail"),
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
    props.migration.grantStartExecution(role);
    this.deadLetters.grantSendMessages(role);
    this.schedulerRole = role;
    for (const schedule of props.schedules) {
      new scheduler.CfnSchedule(this, `Schedule${schedule.name}`, {
        name: `kubeferry-${schedule.name}`,
        description: `kubeferry DR replication of ${schedule.request.namespaces.join(", ")} over pair ${schedule.request.pair}`,
        scheduleExpression: schedule.expression,
        scheduleExpressionTimezone: schedule.timezone,
        flexibleTimeWindow: { mode: "OFF" },
        target: {
          arn: props.migration.stateMachineArn,
          roleArn: role.roleArn,
          input: JSON.stringify(schedule.request),
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
