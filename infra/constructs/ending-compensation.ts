import { ArnFormat, Duration, Stack, Validations } from "aws-cdk-lib";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import type * as sfn from "aws-cdk-lib/aws-stepfunctions";
import { Construct } from "constructs";
import {
  endingStatuses,
  executionStatusChangeDetailType,
} from "../../functions/lib/workflow/execution-ending.ts";
import { nagArn } from "../nag-findings.ts";

export interface EndingCompensationProps {
  /** The state machines whose endings are compensated, with their fixed names. */
  stateMachines: ReadonlyArray<{ stateMachine: sfn.IStateMachine; stateMachineName: string }>;
  compensate: lambda.IFunction;
  deadLetters: sqs.IQueue;
}

/**
 * Every ending cleans up: execution timeouts, StopExecution (`kubeferry cancel`),
 * States.DataLimitExceeded and States.Runtime bypass every Catch, so a rule on the default bus
 * sends each FAILED, TIMED_OUT and ABORTED status change of the workflows to the Compensate
 * function (Cleanup, ReleaseLock, PublishResult of the run).
 */
export class EndingCompensation extends Construct {
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: EndingCompensationProps) {
    super(scope, id);
    this.rule = new events.Rule(this, "ExecutionEnded", {
      description: "Compensate kubeferry executions that ended FAILED, TIMED_OUT or ABORTED",
      eventPattern: {
        source: ["aws.states"],
        detailType: [executionStatusChangeDetailType],
        detail: {
          status: [...endingStatuses],
          stateMachineArn: props.stateMachines.map(({ stateMachine }) => stateMachine.stateMachineArn),
        },
      },
      targets: [
        new targets.LambdaFunction(props.compensate, {
          deadLetterQueue: props.deadLetters,
          retryAttempts: 4,
          maxEventAge: Duration.hours(6),
        }),
      ],
    });
    // The event leaves out an input too large for it; DescribeExecution gives it.
    const stack = Stack.of(this);
    props.compensate.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ["states:DescribeExecution"],
        resources: props.stateMachines.map(({ stateMachineName }) =>
          stack.formatArn({
            service: "states",
            resource: "execution",
            resourceName: `${stateMachineName}:*`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ),
      }),
    );
    const policy = props.compensate.role?.node.tryFindChild("DefaultPolicy");
    for (const { stateMachineName } of policy ? props.stateMachines : []) {
      Validations.of(policy as Construct).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${nagArn(stack, "states", `execution:${stateMachineName}:*`)}]`,
        reason:
          "Executions are named per run at start time; read access is limited to the kubeferry workflows.",
      });
    }
  }
}
