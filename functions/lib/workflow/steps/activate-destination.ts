import { z } from "zod";
import { CutoverTimeout } from "../../errors.ts";
import { unreadyWorkloads } from "../../kube/activate/workload-status.ts";
import { namespacesOn, switchSide } from "../cutover/activation-sides.ts";
import { activationOutcomeSchema, quiesceOutcomeSchema } from "../cutover/result.ts";
import { loadPair, withClients } from "../pair-access.ts";
import { cutoverRunSchema } from "../run.ts";
import { defineStep } from "../step.ts";

/**
 * After the approval: starts the destination's standby workloads (scaled to their remembered
 * replicas, CronJobs resumed) and looks once at their readiness; the machine's Wait loop calls
 * it again, with its last output, until every workload has its replicas ready — the end of the
 * downtime — or the request's readyTimeoutSeconds pass (CutoverTimeout: the cutover is rolled back).
 */
export const activateDestination = defineStep({
  task: "ActivateDestination",
  input: z.object({
    run: cutoverRunSchema,
    quiesce: quiesceOutcomeSchema,
    activation: activationOutcomeSchema.optional(),
  }),
  async run({ run, quiesce, activation }, deps) {
    const { request } = run;
    const pair = await loadPair(deps, request.pair);
    const destination = await deps.connectCluster(pair.destination);
    const namespaces = namespacesOn("destination", pair, run);
    return withClients([destination], async () => {
      // Again on every look: activation is idempotent, and a retried first look must not skip it.
      await switchSide(destination, namespaces, "activate", request.selector);
      const now = deps.now();
      const activatedAt = activation?.activatedAt ?? now.toISOString();
      const waitingFor = (
        await Promise.all(namespaces.map((ns) => unreadyWorkloads(destination, ns, request.selector)))
      ).flat();
      if (waitingFor.length === 0) {
        return {
          cluster: destination.name,
          activatedAt,
          ready: true,
          waitingFor,
          readyAt: now.toISOString(),
          downtimeSeconds: (now.getTime() - Date.parse(quiesce.quiescedAt)) / 1000,
        };
      }
      if (now.getTime() - Date.parse(activatedAt) > request.readyTimeoutSeconds * 1000) {
        throw new CutoverTimeout(
          `cluster ${destination.name}: not ready ${request.readyTimeoutSeconds}s after activation: ${waitingFor.join(", ")}; ` +
            "the cutover puts the destination back in standby and starts the source again",
        );
      }
      return { cluster: destination.name, activatedAt, ready: false, waitingFor };
    });
  },
});
