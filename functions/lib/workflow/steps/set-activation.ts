import { z } from "zod";
import { setActivation as setWorkloadActivation } from "../../kube/activate/activation.ts";
import { destinationNamespace, loadPair, withClients } from "../pair-access.ts";
import { activationRunSchema } from "../run.ts";
import { defineStep } from "../step.ts";

/** Failover (activate) or failback (deactivate) of the workloads of the run's namespaces on one side. */
export const setActivation = defineStep({
  task: "SetActivation",
  input: z.object({ run: activationRunSchema }),
  async run({ run }, deps) {
    const { request } = run;
    const pair = await loadPair(deps, request.pair);
    const onDestination = request.side === "destination";
    const client = await deps.connectCluster(onDestination ? pair.destination : pair.source);
    const namespaces = request.namespaces.map((namespace) =>
      onDestination ? destinationNamespace(pair, namespace) : namespace,
    );
    const statuses = await withClients([client], () =>
      setWorkloadActivation(client, namespaces, request.action, request.selector),
    );
    const failed = statuses.filter((status) => status.status === "Failed");
    if (failed.length > 0) {
      throw new Error(
        `${request.action} on ${client.name}: ${failed.map((s) => `${s.kind} ${s.namespace}/${s.name}: ${s.reason}`).join("; ")}`,
      );
    }
    return {
      cluster: client.name,
      changed: statuses.filter((status) => status.status === "Changed").length,
      unchanged: statuses.filter((status) => status.status === "Unchanged").length,
    };
  },
});
