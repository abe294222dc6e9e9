import { type ActivationMode, setActivation } from "../../kube/activate/activation.ts";
import type { ClusterClient } from "../../kube/client/cluster-client.ts";
import type { PairRecord } from "../../kube/pairing/pairs.ts";
import { destinationNamespace } from "../pair-access.ts";
import type { CutoverRun } from "../run.ts";

/** The cutover's namespaces as one side of the pair names them (the destination's are mapped). */
export function namespacesOn(side: "source" | "destination", pair: PairRecord, run: CutoverRun): string[] {
  return run.request.namespaces.map((namespace) =>
    side === "destination" ? destinationNamespace(pair, namespace) : namespace,
  );
}

/** Activates or deactivates the selected workloads of one side; throws naming every object that refused. */
export async function switchSide(
  client: ClusterClient,
  namespaces: readonly string[],
  mode: ActivationMode,
  selector: string | undefined,
): Promise<string[]> {
  const statuses = await setActivation(client, namespaces, mode, selector);
  const failed = statuses.filter((status) => status.status === "Failed");
  if (failed.length > 0) {
    throw new Error(
      `${mode} on ${client.name}: ${failed.map((s) => `${s.kind} ${s.namespace}/${s.name}: ${s.reason}`).join("; ")}`,
    );
  }
  return statuses
    .filter((status) => status.status === "Changed")
    .map((status) => `${status.kind} ${status.namespace}/${status.name}`);
}
