import * as iam from "aws-cdk-lib/aws-iam";
import * as scheduler from "aws-cdk-lib/aws-scheduler";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import type { GarbageEnvironment } from "../../functions/lib/workflow/environment.ts";
import type { RetentionConfig } from "../config.ts";
import type { WorkflowFunctions } from "./workflow-functions.ts";

export interface ScheduledGarbageCollectionProps {
  functions: WorkflowFunctions;
  retention: RetentionConfig;
  deadLetters: sqs.IQueue;
}

/**
 * Garbage collection on the stack's own schedule (default daily), so repositories stay bounded
 * without anyone running `kubeferry gc`: each pair's runs past retention are dropped, then the
 * chunks no remaining run references are swept.
 */
export class ScheduledGarbageCollection extends Construct {
  readonly schedule: scheduler.CfnSchedule;

  constructor(scope: Construct, id: string, props: ScheduledGarbageCollectionProps) {
    super(scope, id);
    const environment: GarbageEnvironment = {
      ...props.functions.stepEnvironment,
      KUBEFERRY_KEEP_RUNS: String(props.retention.keepRuns),
    };
    const fn = props.functions.addFunction("CollectGarbage", {
      handlerFile: "collect-garbage.ts",
      // Sweeps list and delete one object at a time; a pair's sweep resumes at the next firing.
      memoryMiB: 512,
      timeoutSeconds: 900,
      environment: { ...environment },
      repository: true,
      description: "kubeferry scheduled garbage collection",
    });
    const role = new iam.Role(this, "Role", {
      assumedBy: new iam.ServicePrincipal("scheduler.amazonaws.com"),
      description: "EventBridge Scheduler runs kubeferry garbage collection",
    });
    // The function itself, not `<arn>:*` (grantInvoke's versions and aliases): none are published.
    role.addToPolicy(
      new iam.PolicyStatement({ actions: ["lambda:InvokeFunction"], resources: [fn.functionArn] }),
    );
    props.deadLetters.grantSendMessages(role);
    this.schedule = new scheduler.CfnSchedule(this, "Schedule", {
      name: "kubeferry-gc",
      description: `kubeferry garbage collection: keep the last ${props.retention.keepRuns} runs per pair and namespace, sweep the rest`,
      scheduleExpression: props.retention.expression,
      flexibleTimeWindow: { mode: "FLEXIBLE", maximumWindowInMinutes: 60 },
      target: {
        arn: fn.functionArn,
        roleArn: role.roleArn,
        // A missed collection is made up by the next one: no retry storm against a busy repository.
        retryPolicy: { maximumRetryAttempts: 0 },
        deadLetterConfig: { arn: props.deadLetters.queueArn },
      },
    });
  }
}
