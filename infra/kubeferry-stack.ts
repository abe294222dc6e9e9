import { CfnOutput, Stack, type StackProps } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as events from "aws-cdk-lib/aws-events";
import type { Construct } from "constructs";
import type { DeploymentConfig } from "./config.ts";
import { EndingCompensation } from "./constructs/ending-compensation.ts";
import { StateMachineFromAsl } from "./constructs/migration-workflow.ts";
import { Observability } from "./constructs/observability.ts";
import { ScheduledGarbageCollection } from "./constructs/scheduled-gc.ts";
import { StagingStore } from "./constructs/staging-store.ts";
import { Triggers } from "./constructs/triggers.ts";
import { WorkflowFunctions } from "./constructs/workflow-functions.ts";

export interface KubeferryStackProps extends StackProps {
  config: DeploymentConfig;
}

const migrationTasks = [
  "ValidateRequest",
  "AcquireLock",
  "PairClusters",
  "DiscoverResources",
  "PreHooks",
  "SnapshotVolumes",
  "PostHooks",
  "CheckSnapshots",
  "PlanRanges",
  "StageRange",
  "CommitRun",
  "PrepareVolumes",
  "RestoreRange",
  "FinalizeVolumes",
  "ApplyResources",
  "Verify",
  "PlanDrill",
  "CheckDrill",
  "Cleanup",
  "ReleaseLock",
  "PublishResult",
] as const;
const activationTasks = [
  "ValidateActivation",
  "AcquireLock",
  "SetActivation",
  "ReleaseLock",
  "PublishResult",
] as const;

const cutoverTasks = [
  "ValidateCutover",
  "PublishCutover",
  "QuiesceSource",
  "RequestApproval",
  "ActivateDestination",
  "ResumeSource",
] as const;

/** Everything kubeferry deploys into one account and region. */
export class KubeferryStack extends Stack {
  readonly staging: StagingStore;
  readonly eventBus: events.EventBus;
  readonly functions: WorkflowFunctions;
  readonly migration: StateMachineFromAsl;
  readonly activation: StateMachineFromAsl;
  readonly cutover: StateMachineFromAsl;
  readonly triggers: Triggers;
  readonly endings: EndingCompensation;

  constructor(scope: Construct, id: string, props: KubeferryStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.staging = new StagingStore(this, "Staging");
    this.eventBus = new events.EventBus(this, "Bus", { eventBusName: "kubeferry" });

    const vpc = config.vpc
      ? {
          vpc: ec2.Vpc.fromVpcAttributes(this, "Vpc", {
            vpcId: config.vpc.vpcId,
            availabilityZones: config.vpc.availabilityZones,
            privateSubnetIds: config.vpc.privateSubnetIds,
          }),
          subnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        }
      : undefined;
    this.functions = new WorkflowFunctions(this, "Functions", {
      staging: this.staging,
      repositoryPrefix: config.repositoryPrefix,
      eventBus: this.eventBus,
      ...(vpc ? { vpc } : {}),
    });
    this.migration = new StateMachineFromAsl(this, "Migration", {
      stateMachineName: "kubeferry-migrate",
      definitionFile: "migrate.asl.json",
      functions: this.functions.byTask,
      tasks: migrationTasks,
      distributedMap: true,
      itemSource: { staging: this.staging, repositoryPrefix: config.repositoryPrefix },
    });
    this.activation = new StateMachineFromAsl(this, "Activation", {
      stateMachineName: "kubeferry-activate",
      definitionFile: "activate.asl.json",
      functions: this.functions.byTask,
      tasks: activationTasks,
      distributedMap: false,
    });
    this.cutover = new StateMachineFromAsl(this, "Cutover", {
      stateMachineName: "kubeferry-cutover",
      definitionFile: "cutover.asl.json",
      functions: this.functions.byTask,
      tasks: cutoverTasks,
      distributedMap: false,
      nestedMachines: { MigrationStateMachineArn: this.migration },
    });
    this.triggers = new Triggers(this, "Triggers", {
      eventBus: this.eventBus,
      migration: this.migration.stateMachine,
      schedules: config.schedules,
      functions: this.functions,
    });
    new ScheduledGarbageCollection(this, "GarbageCollection", {
      functions: this.functions,
      retention: config.retention,
      deadLetters: this.triggers.deadLetters,
    });
    this.endings = new EndingCompensation(this, "Endings", {
      stateMachines: [this.migration, this.activation, this.cutover].map((workflow) => ({
        stateMachine: workflow.stateMachine,
        stateMachineName: workflow.stateMachineName,
      })),
      compensate: this.functions.byTask.Compensate,
      deadLetters: this.triggers.deadLetters,
    });
    new Observability(this, "Observability", { migration: this.migration.stateMachine });

    // What the CLI and a person need after `cdk deploy` (see README: deploying).
    const outputs: Record<string, string> = {
      MigrationStateMachineArn: this.migration.stateMachine.stateMachineArn,
      ActivationStateMachineArn: this.activation.stateMachine.stateMachineArn,
      CutoverStateMachineArn: this.cutover.stateMachine.stateMachineArn,
      StagingBucketName: this.staging.bucket.bucketName,
      KmsKeyArn: this.staging.key.keyArn,
      // Map this role into each EKS cluster's access entries (README: deploying).
      ClusterAccessRoleArn: this.functions.clusterAccessRole.roleArn,
      SchedulerRoleArn: this.triggers.schedulerRole.roleArn,
      // Schedules created with `kubeferry schedule create` invoke this function, as the stack's do.
      StartRunFunctionArn: this.triggers.startRun.functionArn,
      // `kubeferry pair check --remote` and `verify --remote` invoke these where the workflow runs.
      PairClustersFunctionName: this.functions.byTask.PairClusters.functionName,
      VerifyFunctionName: this.functions.byTask.Verify.functionName,
      DeadLetterQueueArn: this.triggers.deadLetters.queueArn,
    };
    for (const [id, value] of Object.entries(outputs)) new CfnOutput(this, id, { value });
  }
}
