import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { KMSClient } from "@aws-sdk/client-kms";
import { S3Client } from "@aws-sdk/client-s3";
import { connectCluster } from "../functions/lib/kube/client/cluster-source.ts";
import { PairStore } from "../functions/lib/kube/pairing/pairs.ts";
import { awsClusterConnectDeps } from "../functions/lib/workflow/aws-cluster-connect.ts";
import { clusterSecretPrefix } from "../functions/lib/workflow/environment.ts";
import { eventBridgePublisher } from "../functions/lib/workflow/event-publisher.ts";
import { type LocalConfig, readLocalConfig } from "../functions/lib/workflow/local-config.ts";
import { localStepDeps } from "../functions/lib/workflow/local-step-deps.ts";
import {
  type RepositoryLocation,
  repositoryObjectKey,
  repositoryOpener,
  rootStore,
} from "../functions/lib/workflow/repository-location.ts";
import type { StepDeps, StepLog } from "../functions/lib/workflow/step-deps.ts";
import { UsageError } from "./command.ts";
import type { Output } from "./output.ts";

/** What every command gets: where state lives, how to print, and the step dependencies for local runs. */
export interface CliContext {
  home: string;
  output: Output;
  location: RepositoryLocation;
  config(): Promise<LocalConfig>;
  /** The same dependencies a Lambda step gets, for the local default or the given S3 store. */
  deps: StepDeps;
  /** What the deployed functions of a local run get as their environment (see local-workflow.ts). */
  functionEnvironment: Record<string, string | null>;
}

export interface StoreOptions {
  /** `s3://bucket/prefix`; the local default is a directory under the kubeferry home. */
  store?: string;
  kmsKey?: string;
}

export function repositoryLocation(home: string, options: StoreOptions): RepositoryLocation {
  if (options.store === undefined) return { kind: "filesystem", root: home };
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*?))?\/?$/.exec(options.store);
  if (!match?.[1]) throw new UsageError(`--store must look like s3://bucket/prefix (got "${options.store}")`);
  if (options.kmsKey === undefined) throw new UsageError("--kms-key is required with an S3 --store");
  // Endpoint and region come from the SDK's own chain (AWS_ENDPOINT_URL, AWS_REGION, profiles).
  return {
    kind: "s3",
    s3: new S3Client({ forcePathStyle: process.env.AWS_ENDPOINT_URL !== undefined }),
    bucket: match[1],
    prefix: match[2] || "repositories",
    kms: new KMSClient({}),
    kmsKeyId: options.kmsKey,
  };
}

export function createCliContext(home: string, output: Output, options: StoreOptions): CliContext {
  const location = repositoryLocation(home, options);
  let config: Promise<LocalConfig> | undefined;
  const log: StepLog = {
    info: () => {},
    warn: (message, details) => output.warn(details ? `${message} ${JSON.stringify(details)}` : message),
  };
  return {
    home,
    output,
    location,
    config: () => {
      config ??= readLocalConfig(home);
      return config;
    },
    deps: location.kind === "s3" ? s3StepDeps(location, log) : localStepDeps(home, log),
    functionEnvironment: functionEnvironment(home, location),
  };
}

/**
 * With an S3 store, the CLI works on what the Lambda functions work on: the bucket, the KMS
 * key, the clusters' Secrets Manager secrets and the kubeferry EventBridge bus.
 */
function s3StepDeps(location: Extract<RepositoryLocation, { kind: "s3" }>, log: StepLog): StepDeps {
  const connectDeps = awsClusterConnectDeps();
  return {
    openRepository: repositoryOpener(location),
    repositoryObjectKey: (repository, key) => repositoryObjectKey(location, repository, key),
    pairs: new PairStore(rootStore(location)),
    connectCluster: (name) =>
      connectCluster({ kind: "secret", secretId: `${clusterSecretPrefix}${name}` }, connectDeps, { name }),
    publish: eventBridgePublisher(new EventBridgeClient({}), "kubeferry"),
    recordMetrics: () => {},
    now: () => new Date(),
    log,
  };
}

/**
 * The environment a local run gives the deployed functions: the local default's home, or the
 * S3 store's bucket and key; in both, this process's AWS settings (endpoints, region,
 * credentials, profile) and what kubeconfig exec plugins need (PATH, HOME).
 */
function functionEnvironment(home: string, location: RepositoryLocation): Record<string, string | null> {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(
      (entry): entry is [string, string] =>
        entry[1] !== undefined && (entry[0].startsWith("AWS_") || entry[0] === "PATH" || entry[0] === "HOME"),
    ),
  );
  if (location.kind === "filesystem") {
    return {
      ...inherited,
      KUBEFERRY_LOCAL_HOME: home,
      KUBEFERRY_BUCKET: null,
      KUBEFERRY_KMS_KEY_ARN: null,
      KUBEFERRY_REPOSITORY_KEY_ROLE_ARN: null,
      KUBEFERRY_EVENT_BUS: null,
    };
  }
  return {
    ...inherited,
    KUBEFERRY_BUCKET: location.bucket,
    KUBEFERRY_PREFIX: location.prefix,
    KUBEFERRY_KMS_KEY_ARN: location.kmsKeyId,
    // The CLI's own credentials use the key, as they read the repositories (their IAM decides).
    KUBEFERRY_REPOSITORY_KEY_ROLE_ARN: null,
    KUBEFERRY_EVENT_BUS: "kubeferry",
  };
}
