import { z } from "zod";
import { ValidationError } from "../../errors.ts";
import { unreadyWorkloads } from "../../kube/activate/workload-status.ts";
import type { ClusterClient } from "../../kube/client/cluster-client.ts";
import { type HookOutcome, runHooks } from "../../volumes/hooks.ts";
import { KubeExec } from "../../volumes/pod-exec.ts";
import {
  type DrillCheck,
  drillCheckSchema,
  drillPlannedSchema,
  reportedChecks,
} from "../drill/drill-state.ts";
import { loadPair, withClients } from "../pair-access.ts";
import type { DrillRequest } from "../request.ts";
import { migrationRunSchema } from "../run.ts";
import { defineStep } from "../step.ts";

/** The pause between two looks: short, so the measured time to ready is at most this late. */
const lookIntervalSeconds = 5;
/** The checks of one look together, below the function's 870 s (the request caps their timeouts at 840). */
const checksBudgetMs = 845_000;
/** Of each failing check's output, the state and the result keep this tail: 20 checks stay far below 256 KiB. */
const outputTail = 1000;

/**
 * One look at a drill's scratch copy, without waiting: are its workloads ready (readyReplicas), and
 * once they are, do the request's health checks pass (run through exec in every matching pod of
 * each scratch namespace)? The state machine loops over this Task and a Wait; a check that fails
 * is tried again at the next look, as a readiness probe would be, until `readyBy`. The drill is
 * done when every check passed (time to ready measured from the start of the restore) or when
 * `readyBy` passed without that (failed, with what was not ready or the failing check's output).
 */
export const checkDrill = defineStep({
  task: "CheckDrill",
  input: z.object({
    run: migrationRunSchema,
    drill: drillPlannedSchema,
    drillCheck: drillCheckSchema.optional(),
  }),
  async run({ run, drill, drillCheck }, deps): Promise<DrillCheck> {
    const request = run.request.drill;
    if (!request)
      throw new ValidationError(`CheckDrill: run ${run.id} is not a drill; only drills come here`);
    const firstLook = deps.now();
    const readyBy =
      drillCheck?.readyBy ?? new Date(firstLook.getTime() + request.readyTimeoutSeconds * 1000).toISOString();
    const pair = await loadPair(deps, run.request.pair);
    const destination = await deps.connectCluster(pair.destination);
    const look = await withClients([destination], () =>
      lookAtCopy(destination, drill.scratchNamespaces, request),
    );
    const now = deps.now();
    const base = { waitSeconds: lookIntervalSeconds, readyBy, checks: look.checks.slice(0, reportedChecks) };
    if (look.waitingFor.length === 0) {
      const timeToReadySeconds = Math.max(
        0,
        Math.round((now.getTime() - Date.parse(drill.restoreStartedAt)) / 1000),
      );
      return { ...base, done: true, passed: true, timeToReadySeconds, waitingFor: [] };
    }
    const waitingFor = look.waitingFor.slice(0, 10);
    if (now.getTime() < Date.parse(readyBy)) {
      deps.log.info("drill copy not ready yet", { waitingFor });
      return { ...base, done: false, waitingFor };
    }
    return {
      ...base,
      done: true,
      passed: false,
      waitingFor,
      problem:
        `drill of run ${drill.restoredRun} not ready within readyTimeoutSeconds ${request.readyTimeoutSeconds}: ` +
        `${waitingFor.join("; ")}`,
    };
  },
});

async function lookAtCopy(
  destination: ClusterClient,
  namespaces: readonly string[],
  request: DrillRequest,
): Promise<{ waitingFor: string[]; checks: DrillCheck["checks"] }> {
  const unready = (
    await Promise.all(namespaces.map((namespace) => unreadyWorkloads(destination, namespace)))
  ).flat();
  if (unready.length > 0) return { waitingFor: unready, checks: [] };
  const exec = new KubeExec(destination.kubeConfig);
  const deadline = Date.now() + checksBudgetMs;
  const outcomes: Array<HookOutcome & { namespace: string }> = [];
  const checks = request.healthChecks.map((check) => ({ ...check, onError: "continue" as const }));
  for (const namespace of namespaces) {
    const ran = await runHooks(destination, exec, namespace, "health", checks, deadline);
    outcomes.push(...ran.map((outcome) => ({ ...outcome, namespace })));
  }
  const failed = outcomes.filter((outcome) => !outcome.succeeded);
  const tail = (output: string) => output.trim().slice(-outputTail);
  return {
    waitingFor: failed.map(
      (outcome) =>
        `health check ${JSON.stringify(outcome.command)} in ${outcome.namespace}/${outcome.pod || "(no pod)"}: ` +
        `${outcome.problem ?? `exited ${outcome.exitCode}`}; output: ${tail(outcome.output) || "(none)"}`,
    ),
    checks: outcomes.map((outcome) => ({
      namespace: outcome.namespace,
      pod: outcome.pod,
      container: outcome.container,
      command: outcome.command,
      passed: outcome.succeeded,
      ...(outcome.exitCode === undefined ? {} : { exitCode: outcome.exitCode }),
      ...(outcome.succeeded ? {} : { output: tail(outcome.output) }),
    })),
  };
}
