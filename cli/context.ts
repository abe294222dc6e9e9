import { appendFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { KMSClient } from "@aws-sdk/client-kms";
import { S3Client } from "@aws-sdk/client-s3";
import { ValidationError } from "../functions/lib/errors.ts";
import { type ClusterSource, connectCluster } from "../functions/lib/kube/client/cluster-source.ts";
import { PairStore } from "../functions/lib/kube/pairing/pairs.ts";
import { awsClusterConnectDeps } from "../functions/lib/workflow/aws-cluster-connect.ts";
import { clusterSecretPrefix } from "../functions/lib/workflow/environment.ts";
import { eventBridgePublisher } from "../functions/lib/workflow/event-publisher.ts";
import {
  type RepositoryLocation,
  repositoryOpener,
  rootStore,
} from "../functions/lib/workflow/repository-location.ts";
import type { StepDeps, StepLog } from "../functions/lib/workflow/step-deps.ts";
import { UsageError } from "./command.ts";
import { type LocalConfig, readLocalConfig } from "./local-config.ts";
import type { Output } from "./output.ts";

/** What every command gets: where state lives, how to print, and the step dependencies for local runs. */
export interface CliContext {
  home: string;
  output: Output;
  location: RepositoryLocation;
  config(): Promise<LocalConfig>;
  /** The same dependencies a Lambda step gets, for the local default or the given S3 store. */
  deps: StepDeps;
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
  const openRepository = repositoryOpener(location);
  const connectDeps = awsClusterConnectDeps();
  let config: Promise<LocalConfig> | undefined;
  const loadConfig = () => {
    config ??= readLocalConfig(home);
    return config;
  };
  const log: StepLog = {
    info: () => {},
    warn: (message, details) => output.warn(details ? `${message} ${JSON.stringify(details)}` : message),
  };
  return {
    home,
    output,
    location,
    config: loadConfig,
    deps: {
      openRepository,
      pairs: new PairStore(rootStore(location)),
      connectCluster: async (name) =>
        connectCluster(await clusterSource(location, loadConfig, name), connectDeps, { name }),
      publish: eventLog(home, location),
      recordMetrics: () => {},
      now: () => new Date(),
      log,
    },
  };
}

/**
 * Where a local run's Migration Started/Succeeded/Failed events go: the kubeferry EventBridge
 * bus with an S3 store (as in AWS), else one JSON line each in ~/.kubeferry/events.jsonl.
 */
function eventLog(home: string, location: RepositoryLocation): StepDeps["publish"] {
  if (location.kind === "s3") return eventBridgePublisher(new EventBridgeClient({}), "kubeferry");
  return async (detailType, detail) => {
    await mkdir(home, { recursive: true, mode: 0o700 });
    await appendFile(
      join(home, "events.jsonl"),
      `${JSON.stringify({ time: new Date().toISOString(), detailType, detail })}\n`,
    );
  };
}

/**
 * Where a registered cluster's connection comes from: with the local repository, the
 * kubeconfig recorded by `cluster add`; with an S3 repository, the same Secrets Manager secret
 * the Lambda functions read.
 */
async function clusterSource(
  location: RepositoryLocation,
  config: () => Promise<LocalConfig>,
  name: string,
): Promise<ClusterSource> {
  if (location.kind === "s3") return { kind: "secret", secretId: `${clusterSecretPrefix}${name}` };
  const entry = (await config()).clusters[name];
  if (entry === undefined) {
    throw new ValidationError(
      `cluster "${name}" is not registered: kubeferry cluster add ${name} --kubeconfig PATH`,
    );
  }
  return {
    kind: "kubeconfigFile",
    path: entry.kubeconfig,
    ...(entry.context ? { context: entry.context } : {}),
  };
}
