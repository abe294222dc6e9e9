import { appendFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { ValidationError } from "../errors.ts";
import { connectCluster } from "../kube/client/cluster-source.ts";
import { PairStore } from "../kube/pairing/pairs.ts";
import { awsClusterConnectDeps } from "./aws-cluster-connect.ts";
import { type LocalConfig, readLocalConfig } from "./local-config.ts";
import {
  type RepositoryLocation,
  repositoryObjectKey,
  repositoryOpener,
  rootStore,
} from "./repository-location.ts";
import type { StepDeps, StepLog } from "./step-deps.ts";

/**
 * The dependencies of a step in kubeferry's local default, no AWS involved: the repositories
 * in a directory under the kubeferry home, clusters from the kubeconfig files `cluster add`
 * recorded, events as JSON lines in `<home>/events.jsonl`. The CLI builds them for its own
 * commands, and the deployed functions build them under KUBEFERRY_LOCAL_HOME, so both run
 * the same code on the same state.
 */
export function localStepDeps(home: string, log: StepLog): StepDeps {
  const location: RepositoryLocation = { kind: "filesystem", root: home };
  const connectDeps = awsClusterConnectDeps();
  let config: Promise<LocalConfig> | undefined;
  return {
    openRepository: repositoryOpener(location),
    repositoryObjectKey: (repository, key) => repositoryObjectKey(location, repository, key),
    pairs: new PairStore(rootStore(location)),
    connectCluster: async (name) => {
      config ??= readLocalConfig(home);
      const entry = (await config).clusters[name];
      if (entry === undefined) {
        throw new ValidationError(
          `cluster "${name}" is not registered: kubeferry cluster add ${name} --kubeconfig PATH`,
        );
      }
      const source = {
        kind: "kubeconfigFile" as const,
        path: entry.kubeconfig,
        ...(entry.context ? { context: entry.context } : {}),
      };
      return connectCluster(source, connectDeps, { name });
    },
    publish: async (detailType, detail) => {
      await mkdir(home, { recursive: true, mode: 0o700 });
      await appendFile(
        join(home, "events.jsonl"),
        `${JSON.stringify({ time: new Date().toISOString(), detailType, detail })}\n`,
      );
    },
    recordMetrics: () => {},
    now: () => new Date(),
    log,
  };
}
