import {
  type Command,
  choiceOption,
  listOption,
  requiredOption,
  stringOption,
  UsageError,
} from "../command.ts";
import { exitCodeOf, runReport } from "../report.ts";
import { runWorkflow } from "./migrate.ts";

function activationCommand(action: "activate" | "deactivate", summary: string): Command {
  return {
    path: [action],
    summary,
    usage:
      "--pair PAIR -n NAMESPACE [-n …] [-l SELECTOR] [--side destination|source] [--remote --state-machine ARN]",
    options: {
      pair: { type: "string" },
      namespace: { type: "string", short: "n", multiple: true },
      selector: { type: "string", short: "l" },
      side: { type: "string" },
      remote: { type: "boolean" },
      "state-machine": { type: "string" },
    },
    examples: [
      `kubeferry ${action} --pair onprem-to-west -n shop`,
      `kubeferry ${action} --pair onprem-to-west -n shop --side source -o json`,
    ],
    async run(invocation, context) {
      const namespaces = listOption(invocation, "namespace");
      if (namespaces.length === 0) throw new UsageError("-n/--namespace is required");
      const selector = stringOption(invocation, "selector");
      const request = {
        pair: requiredOption(invocation, "pair"),
        namespaces,
        action,
        side: choiceOption(invocation, "side", ["destination", "source"], "destination"),
        ...(selector ? { selector } : {}),
      };
      const result = await runWorkflow(invocation.values, context, "activate", request);
      context.output.result(result, runReport(result));
      return exitCodeOf(result);
    },
  };
}

export const activationCommands = [
  activationCommand("activate", "fail over: scale a standby copy's workloads up and resume its CronJobs"),
  activationCommand(
    "deactivate",
    "fail back: scale workloads to 0 and suspend CronJobs, remembering the originals",
  ),
];
