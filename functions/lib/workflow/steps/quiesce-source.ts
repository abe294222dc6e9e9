import { z } from "zod";
import { CutoverTimeout } from "../../errors.ts";
import { workloadPods } from "../../kube/activate/workload-status.ts";
import { runHooks } from "../../volumes/hooks.ts";
import { pollUntil, systemClock } from "../../volumes/kube-calls.ts";
import { KubeExec } from "../../volumes/pod-exec.ts";
import { namespacesOn, switchSide } from "../cutover/activation-sides.ts";
import { loadPair, withClients } from "../pair-access.ts";
import { cutoverRunSchema } from "../run.ts";
import { defineStep } from "../step.ts";

/** The quiesce hooks together: well below the function's 870 s, leaving room to scale down and wait. */
const hookBudgetMs = 240_000;

/**
 * Stops the source for the final sync: runs the request's quiesce hooks in its application
 * pods, scales its workloads to 0 and suspends its CronJobs (remembering both in annotations,
 * as deactivate does), then waits until their pods are gone, so the final sync copies what
 * the application wrote last. The downtime starts here.
 */
export const quiesceSource = defineStep({
  task: "QuiesceSource",
  input: z.object({ run: cutoverRunSchema }),
  async run({ run }, deps) {
    const { request } = run;
    const pair = await loadPair(deps, request.pair);
    const source = await deps.connectCluster(pair.source);
    const namespaces = namespacesOn("source", pair, run);
    const quiescedAt = deps.now().toISOString();
    return withClients([source], async () => {
      const deadline = Date.now() + hookBudgetMs;
      const exec = new KubeExec(source.kubeConfig);
      let hooks = 0;
      for (const namespace of namespaces) {
        hooks += (await runHooks(source, exec, namespace, "pre", request.quiesceHooks, deadline)).length;
      }
      const workloads = await switchSide(source, namespaces, "deactivate", request.selector);
      const timeoutMs = request.quiesceTimeoutSeconds * 1000;
      const remaining = async () =>
        (await Promise.all(namespaces.map((ns) => workloadPods(source, ns, request.selector)))).flat();
      await pollUntil(
        systemClock,
        timeoutMs,
        async () => ((await remaining()).length === 0 ? true : undefined),
        async () =>
          new CutoverTimeout(
            `cluster ${source.name}: pods ${(await remaining()).join(", ")} still exist ${request.quiesceTimeoutSeconds}s ` +
              "after their workloads were scaled to 0; check their finalizers and termination grace period " +
              "(the cutover starts the source again)",
          ),
        1000,
      );
      return { cluster: source.name, quiescedAt, workloads, hooks };
    });
  },
});
