import { readFile } from "node:fs/promises";
import type { Writable } from "node:stream";
import {
  CreateEventBusCommand,
  EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
} from "@aws-sdk/client-eventbridge";
import { KMSClient } from "@aws-sdk/client-kms";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import {
  type LocalWorkflow,
  loadWorkflow,
  startLoadedWorkflow,
  type WorkflowName,
} from "../../cli/local-workflow.ts";
import { createClusterClient } from "../../functions/lib/kube/client/cluster-client.ts";
import { createPair, PairStore } from "../../functions/lib/kube/pairing/pairs.ts";
import { clusterSecretPrefix } from "../../functions/lib/workflow/environment.ts";
import { eventBridgePublisher } from "../../functions/lib/workflow/event-publisher.ts";
import type {
  ExecutionEvent,
  ExecutionOutcome,
  LocalExecution,
} from "../../functions/lib/workflow/local-runner.ts";
import {
  type RepositoryLocation,
  repositoryObjectKey,
  repositoryOpener,
  rootStore,
} from "../../functions/lib/workflow/repository-location.ts";
import type { StepDeps } from "../../functions/lib/workflow/step-deps.ts";
import { collectRun } from "../faithful/local-machine.ts";
import { startVolumeEnv, type VolumeEnv, type VolumeEnvOptions } from "../integration/volumes/volume-env.ts";

export const PAIR = "onprem-to-west";

export interface WorkflowEnv {
  volumes: VolumeEnv;
  /** The state the deployed functions work on, for the tests to read and arrange. */
  deps: StepDeps;
  location: RepositoryLocation;
  /** Events published on the kubeferry bus since the last call. */
  publishedEvents(): Promise<Array<{ "detail-type": string; detail: Record<string, unknown> }>>;
  run(
    workflow: WorkflowName,
    input: unknown,
    name: string,
    options?: {
      timeScale?: number;
      /** Sees each event as it happens, with the execution (to abort it, as `kubeferry cancel` does). */
      onEvent?: (event: ExecutionEvent, execution: LocalExecution) => void;
      /** Changes the synthesized workflow for this run: a shorter execution timeout, a Task's result made too large. */
      adjust?: (workflow: LocalWorkflow) => LocalWorkflow;
      /** Receives the functions' own output (their JSON log lines); dropped by default. */
      log?: Writable;
    },
  ): Promise<WorkflowRun>;
  stop(): Promise<void>;
}

export interface WorkflowRun {
  outcome: ExecutionOutcome;
  output?: Record<string, any>;
  /** Set unless the execution SUCCEEDED: its status, error and cause. */
  error?: Error;
  events: ExecutionEvent[];
  /** Task names in the order their states were entered. */
  entered: string[];
}

/**
 * Two local clusters registered in Secrets Manager, MinIO (S3), moto (KMS, Secrets Manager,
 * EventBridge with an SQS queue receiving the bus's events), the pair registered, and the
 * synthesized workflow run locally on the deployed bundles, their environment pointing the AWS
 * SDK at the local servers as a Lambda's points at AWS.
 */
export async function startWorkflowEnv(options: VolumeEnvOptions = {}): Promise<WorkflowEnv> {
  const volumes = await startVolumeEnv(options);
  const aws = {
    endpoint: volumes.moto.endpoint,
    region: volumes.moto.region,
    credentials: volumes.moto.credentials,
  };
  const events = new EventBridgeClient(aws);
  const sqs = new SQSClient(aws);
  await events.send(new CreateEventBusCommand({ Name: "kubeferry" }));
  const queue = await sqs.send(new CreateQueueCommand({ QueueName: "kubeferry-events" }));
  const queueUrl = queue.QueueUrl as string;
  const queueArn = (
    await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }))
  ).Attributes?.QueueArn;
  await events.send(
    new PutRuleCommand({
      Name: "all",
      EventBusName: "kubeferry",
      EventPattern: JSON.stringify({ source: ["kubeferry"] }),
    }),
  );
  await events.send(
    new PutTargetsCommand({
      Rule: "all",
      EventBusName: "kubeferry",
      Targets: [{ Id: "queue", Arn: queueArn }],
    }),
  );

  const secrets = new SecretsManagerClient(aws);
  for (const name of ["source", "destination"]) {
    await secrets.send(
      new CreateSecretCommand({
        Name: `${clusterSecretPrefix}${name}`,
        SecretString: await readFile(volumes.clusters.get(name).kubeconfigPath, "utf8"),
      }),
    );
  }
  const s3Endpoint = await volumes.s3.config.endpoint?.();
  const functionEnvironment = {
    KUBEFERRY_BUCKET: volumes.bucket,
    KUBEFERRY_PREFIX: "kubeferry",
    KUBEFERRY_KMS_KEY_ARN: volumes.kmsKeyId,
    // moto enforces no IAM: the key role's tagged sessions are checked on the template.
    KUBEFERRY_REPOSITORY_KEY_ROLE_ARN: null,
    KUBEFERRY_EVENT_BUS: "kubeferry",
    AWS_REGION: aws.region,
    // One identity for every service, as a Lambda role has: MinIO checks it, moto accepts any.
    AWS_ACCESS_KEY_ID: volumes.minio.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: volumes.minio.credentials.secretAccessKey,
    // The SDK reads per-service endpoints first: S3 may be another server than the rest of AWS.
    AWS_ENDPOINT_URL: aws.endpoint,
    ...(s3Endpoint && {
      AWS_ENDPOINT_URL_S3: `${s3Endpoint.protocol}//${s3Endpoint.hostname}:${s3Endpoint.port}${s3Endpoint.path}`,
    }),
  };

  const location: RepositoryLocation = {
    kind: "s3",
    s3: volumes.s3,
    bucket: volumes.bucket,
    prefix: "kubeferry",
    kms: new KMSClient(aws),
    kmsKeyId: volumes.kmsKeyId,
  };
  const deps: StepDeps = {
    pairs: new PairStore(rootStore(location)),
    openRepository: repositoryOpener(location),
    repositoryObjectKey: (repository, key) => repositoryObjectKey(location, repository, key),
    connectCluster: (name) => createClusterClient(volumes.clusters.get(name).kubeConfig(), { name }),
    publish: eventBridgePublisher(events, "kubeferry"),
    recordMetrics: () => {},
    now: () => new Date(),
    log: { info: () => {}, warn: () => {} },
  };
  await createPair(
    deps.pairs,
    {
      name: PAIR,
      source: "source",
      destination: "destination",
      storageClassMapping: { "sim-fast": "dest-fast", "sim-retain": "dest-retain" },
    },
    { source: volumes.source.client, destination: volumes.destination.client },
    new Date(),
  );

  return {
    volumes,
    deps,
    location,
    async publishedEvents() {
      const received = [];
      for (;;) {
        const batch = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }),
        );
        const messages = batch.Messages ?? [];
        if (messages.length === 0) return received;
        received.push(...messages.map((message) => JSON.parse(message.Body as string)));
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: messages.map((message, i) => ({ Id: String(i), ReceiptHandle: message.ReceiptHandle })),
          }),
        );
      }
    },
    async run(
      workflow,
      input,
      name,
      { onEvent, adjust = (loaded: LocalWorkflow) => loaded, ...options } = {},
    ) {
      const loaded = await loadWorkflow(workflow, { environment: functionEnvironment, location, ...options });
      const execution = startLoadedWorkflow(adjust(loaded), input, name);
      const collected = await collectRun(execution, (event) => onEvent?.(event, execution));
      const { outcome } = collected;
      return {
        ...collected,
        ...(outcome.status === "SUCCEEDED"
          ? { output: outcome.output as Record<string, any> }
          : {
              error: new Error(
                `execution ${outcome.status.toLowerCase()}: ${outcome.error}: ${outcome.cause}`,
              ),
            }),
      };
    },
    stop: () => volumes.stop(),
  };
}

/** The states that failed and why: the message to show when a run was expected to succeed. */
export function failures(run: WorkflowRun): string {
  return run.events
    .filter((event) => event.type === "StateFailed")
    .map((event) => `${event.state}: ${event.error} ${event.cause ?? ""}`)
    .join("\n");
}
