import { join } from "node:path";
import { ArnFormat, Duration, Stack, Validations } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import type * as events from "aws-cdk-lib/aws-events";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as nodejs from "aws-cdk-lib/aws-lambda-nodejs";
import * as logs from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import {
  clusterSecretPrefix,
  type PublishEnvironment,
  type StepEnvironment,
} from "../../functions/lib/workflow/environment.ts";
import {
  functionDescription,
  handlerFileName,
  type TaskName,
  taskCatalog,
  taskNames,
} from "../../functions/lib/workflow/task-catalog.ts";
import { nagArn } from "../nag-findings.ts";
import { RepositoryKeyRole } from "./repository-key-role.ts";
import type { StagingStore } from "./staging-store.ts";

export interface WorkflowFunctionsProps {
  staging: StagingStore;
  repositoryPrefix: string;
  eventBus: events.IEventBus;
  vpc?: { vpc: ec2.IVpc; subnets: ec2.SubnetSelection };
}

const handlersDir = join(import.meta.dirname, "..", "..", "functions", "handlers");

/** How every function is bundled. */
const bundling: nodejs.BundlingOptions = {
  format: nodejs.OutputFormat.ESM,
  target: "node24",
  minify: true,
  // Retry, Catch, events and run records match domain errors by class name
  // (ValidationError, ChunkCorrupt…); minification would rename them to one letter.
  keepNames: true,
  // Bundle the AWS SDK too: conditional writes need a newer SDK than a runtime may carry.
  externalModules: [],
  sourceMap: true,
  // Some dependencies still call require(); give the ESM bundle one.
  banner: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
};

/**
 * One Lambda function per workflow Task. The Tasks that talk to clusters share one role, so a
 * person maps exactly one IAM role into each EKS cluster's access entries (README: deploying);
 * every other Task has a role of its own with only the repository access it needs.
 */
export class WorkflowFunctions extends Construct {
  readonly byTask: Record<TaskName, lambda.IFunction>;
  readonly clusterAccessRole: iam.Role;
  readonly repositoryKeyRole: RepositoryKeyRole;
  /** The environment of a function that works on the repositories as the steps do. */
  readonly stepEnvironment: StepEnvironment;

  private readonly props: WorkflowFunctionsProps;
  private readonly securityGroups: ec2.ISecurityGroup[] | undefined;
  private readonly roles = new Set<iam.Role>();
  private readonly publishers = new Set<iam.Role>();

  constructor(scope: Construct, id: string, props: WorkflowFunctionsProps) {
    super(scope, id);
    this.props = props;
    const { staging } = props;
    const stack = Stack.of(this);

    this.clusterAccessRole = new iam.Role(this, "ClusterAccessRole", {
      assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
      description: "kubeferry steps that talk to the source and destination clusters",
    });
    grantClusterAccess(this.clusterAccessRole, stack);
    this.repositoryKeyRole = new RepositoryKeyRole(this, "RepositoryKey", {
      key: staging.key,
      firstUser: this.clusterAccessRole,
    });
    const stepEnvironment: StepEnvironment = {
      KUBEFERRY_BUCKET: staging.bucket.bucketName,
      KUBEFERRY_PREFIX: props.repositoryPrefix,
      KUBEFERRY_KMS_KEY_ARN: staging.key.keyArn,
      KUBEFERRY_CLUSTER_SECRET_PREFIX: clusterSecretPrefix,
      KUBEFERRY_REPOSITORY_KEY_ROLE_ARN: this.repositoryKeyRole.role.roleArn,
    };
    const publishEnvironment: PublishEnvironment = {
      ...stepEnvironment,
      KUBEFERRY_EVENT_BUS: props.eventBus.eventBusName,
    };
    this.stepEnvironment = stepEnvironment;

    // One security group for all functions: they only call out (API servers, AWS endpoints).
    this.securityGroups = props.vpc
      ? [
          new ec2.SecurityGroup(this, "SecurityGroup", {
            vpc: props.vpc.vpc,
            description: "kubeferry functions",
          }),
        ]
      : undefined;
    const entries = taskNames.map((task) => {
      const sizing = taskCatalog[task];
      const role = sizing.clusters
        ? this.clusterAccessRole
        : new iam.Role(this, `${task}Role`, {
            assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
            description: `kubeferry ${task} step`,
          });
      const fn = this.newFunction(task, `${handlerFileName(task)}.ts`, {
        ...sizing,
        // The local runner finds each Task's function by it, also one no state machine names (Compensate).
        description: functionDescription(task),
        role,
        environment: sizing.environment === "publish" ? publishEnvironment : stepEnvironment,
      });
      this.setUpRole(role, { repository: true, publishes: sizing.environment === "publish" });
      return [task, fn] as const;
    });
    this.byTask = Object.fromEntries(entries) as unknown as Record<TaskName, lambda.IFunction>;
  }

  /**
   * A function beside the Tasks (a trigger, a scheduled job), built as they are, with a role of
   * its own: with the steps' repository access, or with none (the caller grants what it needs).
   */
  addFunction(
    id: string,
    options: {
      handlerFile: string;
      memoryMiB: number;
      timeoutSeconds: number;
      environment: Record<string, string>;
      repository: boolean;
      description: string;
    },
  ): lambda.Function {
    const role = new iam.Role(this, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
      description: options.description,
    });
    const fn = this.newFunction(id, options.handlerFile, { ...options, role });
    this.setUpRole(role, { repository: options.repository, publishes: false });
    return fn;
  }

  private newFunction(
    id: string,
    handlerFile: string,
    options: {
      memoryMiB: number;
      timeoutSeconds: number;
      role: iam.Role;
      environment: Record<string, string>;
      description?: string;
    },
  ): lambda.Function {
    const logGroup = new logs.LogGroup(this, `${id}Logs`, { retention: logs.RetentionDays.THREE_MONTHS });
    const { vpc } = this.props;
    const fn = new nodejs.NodejsFunction(this, id, {
      entry: join(handlersDir, handlerFile),
      ...(options.description ? { description: options.description } : {}),
      handler: "handler",
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: options.memoryMiB,
      timeout: Duration.seconds(options.timeoutSeconds),
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      role: options.role,
      environment: {
        ...options.environment,
        POWERTOOLS_SERVICE_NAME: "kubeferry",
        NODE_OPTIONS: "--enable-source-maps",
      },
      bundling,
      ...(vpc ? { vpc: vpc.vpc, vpcSubnets: vpc.subnets, securityGroups: this.securityGroups } : {}),
    });
    options.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
        resources: [logGroup.logGroupArn],
      }),
    );
    return fn;
  }

  /** Once per role: repository access and what a function in the VPC needs. */
  private setUpRole(role: iam.Role, access: { repository: boolean; publishes: boolean }): void {
    if (access.publishes && !this.publishers.has(role)) {
      // The shared role publishes too once Compensate (a cluster-talking function) runs as it.
      this.publishers.add(role);
      role.addToPolicy(
        new iam.PolicyStatement({
          actions: ["events:PutEvents"],
          resources: [this.props.eventBus.eventBusArn],
        }),
      );
    }
    if (this.roles.has(role)) return;
    this.roles.add(role);
    const stack = Stack.of(this);
    if (access.repository) {
      grantStepAccess(role, this.props, this.repositoryKeyRole);
      acknowledgeWildcards(role, stack, this.props);
    }
    Validations.of(role.node.findChild("DefaultPolicy")).acknowledge({
      id: "AwsSolutions-IAM5[Resource::*]",
      reason: "X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions.",
    });
    if (this.props.vpc) {
      role.addManagedPolicy(
        iam.ManagedPolicy.fromAwsManagedPolicyName("service-role/AWSLambdaVPCAccessExecutionRole"),
      );
      Validations.of(role).acknowledge({
        id: "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]",
        reason: "The AWS-managed VPC access policy is the documented minimum for functions in a VPC.",
      });
    }
  }
}

/** What only the cluster-talking steps need: EKS clusters are registered by name and region. */
function grantClusterAccess(role: iam.Role, stack: Stack) {
  role.addToPolicy(
    new iam.PolicyStatement({
      // The endpoint and CA of a registered `{"type":"eks"}` cluster; its token is minted with this role.
      actions: ["eks:DescribeCluster"],
      resources: [stack.formatArn({ service: "eks", region: "*", resource: "cluster", resourceName: "*" })],
    }),
  );
  Validations.of(role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::${nagArn(stack, "eks", "cluster/*", "*")}]`,
    reason: "EKS clusters are registered at run time, in any region of the account.",
  });
}

function grantStepAccess(role: iam.Role, props: WorkflowFunctionsProps, keyRole: RepositoryKeyRole) {
  const { bucket, key } = props.staging;
  const stack = Stack.of(role);
  role.addToPolicy(
    new iam.PolicyStatement({
      actions: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
      resources: ["*"],
    }),
  );
  role.addToPolicy(new iam.PolicyStatement({ actions: ["s3:ListBucket"], resources: [bucket.bucketArn] }));
  role.addToPolicy(
    new iam.PolicyStatement({
      actions: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
      resources: [bucket.arnForObjects(`${props.repositoryPrefix}/*`)],
    }),
  );
  role.addToPolicy(
    new iam.PolicyStatement({
      // The bucket's SSE-KMS on PutObject/GetObject: only through S3.
      actions: ["kms:GenerateDataKey", "kms:Decrypt"],
      resources: [key.keyArn],
      conditions: { StringEquals: { "kms:ViaService": `s3.${stack.region}.${stack.urlSuffix}` } },
    }),
  );
  // Repository keys: only through a session of the key role tagged with the run's repository.
  keyRole.allow(role);
  role.addToPolicy(
    new iam.PolicyStatement({
      actions: ["secretsmanager:GetSecretValue"],
      resources: [
        stack.formatArn({
          service: "secretsmanager",
          resource: "secret",
          resourceName: `${clusterSecretPrefix}*`,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ],
    }),
  );
}

function acknowledgeWildcards(role: iam.Role, stack: Stack, props: WorkflowFunctionsProps) {
  const policy = role.node.findChild("DefaultPolicy");
  const findings: Array<[string, string]> = [
    [
      `Resource::<${stack.getLogicalId(props.staging.bucket.node.defaultChild as never)}.Arn>/${props.repositoryPrefix}/*`,
      "Chunk and manifest object keys are content-addressed and created at run time under the repository prefix.",
    ],
    [
      `Resource::${nagArn(stack, "secretsmanager", `secret:${clusterSecretPrefix}*`)}`,
      "Clusters are registered at run time; read access is limited to the kubeferry/clusters/ prefix.",
    ],
  ];
  for (const [finding, reason] of findings) {
    Validations.of(policy).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
  }
}
