import { ValidationError } from "../errors.ts";
import type { ClusterClient } from "../kube/client/cluster-client.ts";
import type { PairRecord } from "../kube/pairing/pairs.ts";
import { mapNamespace } from "../kube/transform/namespace-mapping.ts";
import type { StepDeps } from "./step-deps.ts";

export async function loadPair(deps: StepDeps, name: string): Promise<PairRecord> {
  const pair = await deps.pairs.get(name);
  if (pair === undefined) {
    throw new ValidationError(
      `pair: "${name}" does not exist; create it with \`kubeferry pair create ${name} …\``,
    );
  }
  return pair;
}

export interface PairClients {
  pair: PairRecord;
  source: ClusterClient;
  destination: ClusterClient;
}

export async function connectPair(deps: StepDeps, name: string): Promise<PairClients> {
  const pair = await loadPair(deps, name);
  const [source, destination] = await Promise.all([
    deps.connectCluster(pair.source),
    deps.connectCluster(pair.destination),
  ]);
  return { pair, source, destination };
}

/** Runs work with a cluster client and closes its idle connections afterwards (a Lambda may freeze). */
export async function withClients<T>(clients: ClusterClient[], work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } finally {
    for (const client of clients) client.close();
  }
}

export function destinationNamespace(pair: PairRecord, namespace: string): string {
  return mapNamespace(pair.namespaceMapping, namespace);
}

export function destinationStorageClass(pair: PairRecord, storageClass: string): string {
  return pair.storageClassMapping[storageClass] ?? storageClass;
}
