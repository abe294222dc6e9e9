import type { RunResult } from "../../functions/lib/workflow/run-result.ts";
import {
  type Command,
  choiceOption,
  countOption,
  type Invocation,
  selection,
  UsageError,
} from "../command.ts";
import { formatDuration } from "../format.ts";
import { exitCodeOf, runReport } from "../report.ts";
import { runWorkflow } from "./migrate.ts";

/** The options that make a request a drill, shared by `kubeferry drill` and `schedule create --drill`. */
export const drillOptions = {
  "health-check": { type: "string", multiple: true },
  "ready-timeout": { type: "string" },
} as const;

/**
 * The request's `drill` from the options. A check is `SELECTOR:CONTAINER:COMMAND`, the command run
 * with `sh -c` (a label selector and a container name have no ':'; the command may).
 */
export function drillOf(invocation: Invocation) {
  const raw = invocation.values["health-check"];
  const given = Array.isArray(raw) ? raw : typeof raw === "string" ? [raw] : [];
  const healthChecks = given.map((check) => {
    const [podSelector, container, ...command] = check.split(":");
    if (!podSelector || !container || command.length === 0 || command.join(":").trim() === "") {
      throw new UsageError(
        `--health-check takes SELECTOR:CONTAINER:COMMAND, e.g. 'app=db:postgres:pg_isready' (got "${check}")`,
      );
    }
    return { podSelector, container, command: ["sh", "-c", command.join(":")] };
  });
  const readyTimeoutSeconds = countOption(invocation, "ready-timeout");
  return { healthChecks, ...(readyTimeoutSeconds === undefined ? {} : { readyTimeoutSeconds }) };
}

export const drill: Command = {
  path: ["drill"],
  summary:
    "prove the DR copy works: restore the latest committed run into a scratch namespace on the destination, start it, health-check it, delete it",
  usage:
    "--pair PAIR -n NAMESPACE [-n …] [--health-check SELECTOR:CONTAINER:COMMAND]... [--ready-timeout SECONDS] " +
    "[--lock wait|skip] [--remote --state-machine ARN]",
  options: {
    pair: { type: "string" },
    namespace: { type: "string", short: "n", multiple: true },
    ...drillOptions,
    lock: { type: "string" },
    remote: { type: "boolean" },
    "state-machine": { type: "string" },
  },
  examples: [
    "kubeferry drill --pair onprem-to-west -n ledger --health-check 'app=ledger:db:pg_isready -h 127.0.0.1'",
    "kubeferry drill --pair onprem-to-west -n shop --ready-timeout 600 -o json",
    "kubeferry drill --pair onprem-to-west -n shop --remote --state-machine arn:aws:states:eu-west-1:123456789012:stateMachine:kubeferry-migrate",
  ],
  async run(invocation, context) {
    const { pair, namespaces } = selection(invocation);
    const request = {
      pair,
      namespaces,
      drill: drillOf(invocation),
      lockPolicy: choiceOption(invocation, "lock", ["wait", "skip"], "skip"),
    };
    const result = await runWorkflow(invocation.values, context, "migrate", request);
    context.output.result(result, drillReport(result));
    return exitCodeOf(result);
  },
};

/** The run's report and, first, the drill's verdict: passed with its time to ready, or why not. */
export function drillReport(result: RunResult): string {
  const outcome = result.drill;
  if (!outcome) return runReport(result);
  const verdict = outcome.passed
    ? `drill PASSED: ready and healthy ${formatDuration(outcome.timeToReadySeconds ?? 0)} after the restore started`
    : "drill FAILED";
  const restored = outcome.restoredRun ? ` (restored run ${outcome.restoredRun})` : "";
  const checks = outcome.checks.map(
    (check) =>
      `  ${check.passed ? "ok  " : "FAIL"} ${check.namespace}/${check.pod} ${JSON.stringify(check.command)}` +
      (check.output ? `: ${check.output.trim()}` : ""),
  );
  return [`${verdict}${restored}`, ...checks, "", runReport(result)].join("\n");
}
