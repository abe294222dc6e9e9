import { ExecFailed } from "../errors.ts";
import type { ClusterClient } from "../kube/client/cluster-client.ts";
import { containerSecretValues, type HookContainer, maskedTail } from "./hook-output.ts";
import { listObjects, paths } from "./kube-calls.ts";
import type { CommandExec } from "./pod-exec.ts";

/**
 * Exec hooks around the snapshots of a namespace, for application-consistent snapshots (as
 * Stork's pre/post exec rules and Velero's backup hooks): a command run in every Running pod
 * matched by a label selector, in one container.
 */
export interface ExecHook {
  /** Label selector of the pods, e.g. "app=db". */
  podSelector: string;
  container: string;
  command: string[];
  /** Default 60. A timed-out command may still be running in the pod: Kubernetes cannot stop it. */
  timeoutSeconds?: number;
  /** "fail" (default) fails the run; "continue" records the failure and goes on. */
  onError?: "fail" | "continue";
}

/** pre/post: around the snapshots; health: a drill's health checks (drill/check-drill). */
export type HookPhase = "pre" | "post" | "health";

export interface HookOutcome {
  phase: HookPhase;
  pod: string;
  container: string;
  command: string[];
  succeeded: boolean;
  exitCode?: number;
  /** stdout then stderr, its tail with the container's secrets masked (hook-output.ts). */
  output: string;
  problem?: string;
}

interface PodSummary {
  metadata: { name: string };
  spec?: { containers?: HookContainer[] };
  status?: { phase?: string };
}

/**
 * Runs each hook in every matching Running pod, in order; throws ExecFailed on a failing "fail" hook.
 * A hook that finds no Running pod, or a pod without its container, has failed: a freeze that
 * silently ran nowhere would make the snapshot crash-consistent while the run says otherwise.
 * `deadline` (epoch ms) bounds the whole phase: each command gets at most the time left, so a phase
 * of many hooks and pods fails with a clear error instead of outliving its Lambda invocation.
 */
export async function runHooks(
  client: ClusterClient,
  exec: CommandExec,
  namespace: string,
  phase: HookPhase,
  hooks: readonly ExecHook[],
  deadline = Number.POSITIVE_INFINITY,
): Promise<HookOutcome[]> {
  const outcomes: HookOutcome[] = [];
  const record = (hook: ExecHook, outcome: HookOutcome, failure: string) => {
    outcomes.push(outcome);
    if (!outcome.succeeded && (hook.onError ?? "fail") === "fail") {
      throw new ExecFailed(
        `cluster ${client.name}: ${phase} hook ${failure}; ` +
          'fix the hook or the application, or set onError: "continue" for this hook',
      );
    }
  };
  for (const hook of hooks) {
    const pods = (await listObjects<PodSummary>(client, paths.pods(namespace), hook.podSelector)).filter(
      (pod) => pod.status?.phase === "Running",
    );
    const notRun = (pod: string, problem: string): HookOutcome => ({
      phase,
      pod,
      container: hook.container,
      command: hook.command,
      succeeded: false,
      output: "",
      problem,
    });
    if (pods.length === 0) {
      const problem = `no Running pod in namespace ${namespace} matches podSelector "${hook.podSelector}"`;
      record(hook, notRun("", problem), `command ${JSON.stringify(hook.command)}: ${problem}`);
    }
    for (const pod of pods) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new ExecFailed(
          `cluster ${client.name}: the ${phase} hooks used up their time budget before ${JSON.stringify(hook.command)} ` +
            `could run in pod ${namespace}/${pod.metadata.name}; use fewer or faster hooks, or narrow podSelector`,
        );
      }
      const containers = (pod.spec?.containers ?? []).map((container) => container.name);
      const container = pod.spec?.containers?.find((candidate) => candidate.name === hook.container);
      if (!container) {
        const problem = `pod ${namespace}/${pod.metadata.name} has no container ${hook.container} (it has: ${containers.join(", ") || "none"})`;
        record(
          hook,
          notRun(pod.metadata.name, problem),
          `command ${JSON.stringify(hook.command)}: ${problem}`,
        );
        continue;
      }
      const result = await exec.runCommand(
        { cluster: client.name, namespace, pod: pod.metadata.name, container: hook.container },
        hook.command,
        Math.min((hook.timeoutSeconds ?? 60) * 1000, left),
      );
      const secrets = await containerSecretValues(client, namespace, container);
      const output =
        "values" in secrets
          ? maskedTail(`${result.stdout}${result.stderr}`, secrets.values)
          : `(output withheld: ${secrets.problem}, so its secrets could not be masked)`;
      const how =
        result.exitCode === undefined ? `did not finish (${result.problem})` : `exited ${result.exitCode}`;
      record(
        hook,
        {
          phase,
          pod: pod.metadata.name,
          container: hook.container,
          command: hook.command,
          succeeded: result.exitCode === 0,
          output,
          ...(result.exitCode === undefined ? {} : { exitCode: result.exitCode }),
          ...(result.problem === undefined ? {} : { problem: result.problem }),
        },
        `in pod ${namespace}/${pod.metadata.name} container ${hook.container}: command ${JSON.stringify(hook.command)} ` +
          `${how}; output: ${output.trim() || "(none)"}`,
      );
    }
  }
  return outcomes;
}
