import { ValidationError } from "../errors.ts";
import type { ClusterClient } from "../kube/client/cluster-client.ts";
import { isNotFound } from "../kube/client/kube-api-error.ts";
import { type PairRecord, pairContext } from "../kube/pairing/pairs.ts";
import {
  fileOnlyDestinations,
  type TransportChoice,
  type TransportPreference,
} from "../volumes/volume-transport.ts";
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
  return pairContext(pair).destinationOf(namespace);
}

export function destinationStorageClass(pair: PairRecord, storageClass: string): string {
  return pair.storageClassMapping[storageClass] ?? storageClass;
}

/** How the pair's runs choose each volume's transport: the request's preference, else the pair's. */
export async function transportChoice(
  pair: PairRecord,
  destination: ClusterClient,
  requested: TransportPreference | undefined,
): Promise<TransportChoice> {
  return {
    preference: requested ?? pair.volumeTransport ?? "auto",
    ...(pair.fileDrivers ? { fileDrivers: pair.fileDrivers } : {}),
    fileOnlyDestination: await fileOnlyDestinations(
      destination,
      (storageClass) => destinationStorageClass(pair, storageClass),
      pair.fileDrivers,
    ),
  };
}

/** The pair's data-mover namespace, the same name on both clusters. */
export function dataMoverNamespace(pair: PairRecord): string {
  return pairContext(pair).dataMover;
}

/** Marks a destination namespace that a run created before applying its objects. */
export const CREATED_BY_RUN_ANNOTATION = "kubeferry.dev/created-by-run";

/** The run's destination namespaces that this run created (its own, not a conflict). */
export async function namespacesCreatedByRun(
  destination: ClusterClient,
  run: { id: string; request: { namespaces: string[] } },
  pair: PairRecord,
): Promise<Set<string>> {
  const ours = new Set<string>();
  for (const source of run.request.namespaces) {
    const name = destinationNamespace(pair, source);
    const namespace = await destination
      .request<{ metadata?: { annotations?: Record<string, string> } }>({
        method: "GET",
        path: `/api/v1/namespaces/${name}`,
      })
      .catch((error: unknown) => {
        if (isNotFound(error)) return undefined;
        throw error;
      });
    if (namespace?.body.metadata?.annotations?.[CREATED_BY_RUN_ANNOTATION] === run.id) ours.add(name);
  }
  return ours;
}
