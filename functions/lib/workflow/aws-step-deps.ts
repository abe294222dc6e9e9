import type { Logger } from "@aws-lambda-powertools/logger";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { KMSClient } from "@aws-sdk/client-kms";
import { S3Client } from "@aws-sdk/client-s3";
import { DescribeExecutionCommand, SFNClient } from "@aws-sdk/client-sfn";
import { repositoryKmsClients } from "../aws/repository-key-sessions.ts";
import { connectCluster } from "../kube/client/cluster-source.ts";
import { PairStore } from "../kube/pairing/pairs.ts";
import { awsClusterConnectDeps } from "./aws-cluster-connect.ts";
import { embeddedMetricsLine } from "./embedded-metrics.ts";
import type { PublishEnvironment, StepEnvironment } from "./environment.ts";
import { eventBridgePublisher } from "./event-publisher.ts";
import {
  type RepositoryLocation,
  repositoryObjectKey,
  repositoryOpener,
  rootStore,
} from "./repository-location.ts";
import type { StepDeps, StepLog } from "./step-deps.ts";

/** The dependencies of a step running in Lambda: the staging bucket, the KMS key, Secrets Manager, EventBridge. */
export function awsStepDeps(environment: StepEnvironment | PublishEnvironment, logger: Logger): StepDeps {
  const bus = "KUBEFERRY_EVENT_BUS" in environment ? environment.KUBEFERRY_EVENT_BUS : undefined;
  const events = new EventBridgeClient({});
  const location: RepositoryLocation = {
    kind: "s3",
    s3: new S3Client({}),
    bucket: environment.KUBEFERRY_BUCKET,
    prefix: environment.KUBEFERRY_PREFIX,
    kms: new KMSClient({}),
    kmsKeyId: environment.KUBEFERRY_KMS_KEY_ARN,
    ...(environment.KUBEFERRY_REPOSITORY_KEY_ROLE_ARN && {
      repositoryKms: repositoryKmsClients(environment.KUBEFERRY_REPOSITORY_KEY_ROLE_ARN),
    }),
  };
  const connectDeps = awsClusterConnectDeps();
  return {
    pairs: new PairStore(rootStore(location)),
    openRepository: repositoryOpener(location),
    repositoryObjectKey: (repository, key) => repositoryObjectKey(location, repository, key),
    // Registered clusters are secrets under the prefix the functions may read.
    connectCluster: (name) =>
      connectCluster(
        { kind: "secret", secretId: `${environment.KUBEFERRY_CLUSTER_SECRET_PREFIX}${name}` },
        connectDeps,
        {
          name,
        },
      ),
    publish: async (detailType, detail) => {
      // Only PublishResult is given the bus (and the permission to put events on it).
      if (bus === undefined)
        throw new Error(`this function cannot publish ${detailType}: it has no event bus`);
      await eventBridgePublisher(events, bus)(detailType, detail);
    },
    recordMetrics: (values) => console.log(embeddedMetricsLine(values, new Date())),
    now: () => new Date(),
    log: loggerStepLog(logger),
    executionInput: async (executionArn) => {
      const execution = await new SFNClient({}).send(new DescribeExecutionCommand({ executionArn }));
      return execution.input ?? "null";
    },
  };
}

/** A step's log lines as structured JSON log entries. */
export function loggerStepLog(logger: Logger): StepLog {
  return {
    info: (message, details) => logger.info(message, details ?? {}),
    warn: (message, details) => logger.warn(message, details ?? {}),
  };
}
