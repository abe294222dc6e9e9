import type { ClusterClient } from "../kube/client/cluster-client.ts";
import type { PairStore } from "../kube/pairing/pairs.ts";
import type { Repository } from "../repository/repository.ts";

/**
 * Everything a step needs from the outside world, passed in so that Lambda (S3, KMS, Secrets
 * Manager, EventBridge), the CLI (local files or the same AWS services) and tests run the same
 * step code.
 */
export interface StepDeps {
  pairs: PairStore;
  /**
   * The chunk repository of a pair, created with its key on first use: the pair's own, or the one
   * it shares with the pair it reverses (its record's `repository`).
   */
  openRepository(pair: string): Promise<Repository>;
  /** The bucket key of a key of a repository, by the repository's name (what a Map's ItemReader reads). */
  repositoryObjectKey(repository: string, key: string): string;
  /** A client for a registered cluster; its credentials are never logged nor put in a payload. */
  connectCluster(name: string): Promise<ClusterClient>;
  publish(detailType: string, detail: Record<string, unknown>): Promise<void>;
  /** Run figures for the dashboard (CloudWatch metrics in AWS). */
  recordMetrics(values: Record<string, number>): void;
  now(): Date;
  log: StepLog;
  /**
   * DescribeExecution's input of an execution, for a compensation whose status-change event
   * left it out (too large); only the AWS dependencies have it.
   */
  executionInput?(executionArn: string): Promise<string>;
}

export interface StepLog {
  info(message: string, details?: Record<string, unknown>): void;
  warn(message: string, details?: Record<string, unknown>): void;
}
