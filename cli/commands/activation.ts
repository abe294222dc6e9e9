import { type Command, choiceOption, selection, selectionOptions } from "../command.ts";
import { exitCodeOf, runReport } from "../report.ts";
import { runWorkflow } from "./migrate.ts";

function activationCommand(action: "activate" | "deactivate", summary: string): Command {
  return {
    path: [action],
    summary,
    usage:
      "--pair PAIR -n NAMESPACE [-n …] [-l SELECTOR] [--side destination|source] [--remote --state-machine ARN]",
    options: {
      ...selectionOptions,
      side: { type: "string" },
      remote: { type: "boolean" },
      "state-machine": { type: "string" },
    },
    examples: [
      `kubeferry ${action} --pair onprem-to-west -n shop`,
      `kubeferry ${action} --pair onprem-to-west -n shop --side source -o json`,
    ],
    async run(invocation, context) {
      const request = {
        ...selection(invocation),
        action,
        side: choiceOption(invocation, "side", ["destination", "source"], "destination"),
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
