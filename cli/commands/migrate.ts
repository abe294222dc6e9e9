import type { RunResult } from "../../functions/lib/workflow/run-result.ts";
import {
  type Command,
  choiceOption,
  listOption,
  selection,
  selectionOptions,
  UsageError,
} from "../command.ts";
import type { WorkflowName } from "../local-workflow.ts";
import { runRemotely } from "../remote-execution.ts";
import { exitCodeOf, runReport } from "../report.ts";
import { newRunName, runLocally } from "../run-workflow.ts";

export const migrate: Command = {
  path: ["migrate"],
  summary: "migrate namespaces' objects and volume data over a pair (locally, or --remote in AWS)",
  usage:
    "--pair PAIR -n NAMESPACE [-n …] [-l SELECTOR] [--standby] [--full-restore] [--existing skip|update|fail] [--dry-run] " +
    "[--volume-transport auto|block|file] [--quiesce] [--group-snapshots auto|required|off] [--exclude-resource GLOB]... [--lock wait|skip] [--remote --state-machine ARN]",
  options: {
    ...selectionOptions,
    standby: { type: "boolean" },
    existing: { type: "string" },
    "dry-run": { type: "boolean" },
    "full-restore": { type: "boolean" },
    "volume-transport": { type: "string" },
    quiesce: { type: "boolean" },
    "group-snapshots": { type: "string" },
    "exclude-resource": { type: "string", multiple: true },
    lock: { type: "string" },
    remote: { type: "boolean" },
    "state-machine": { type: "string" },
  },
  examples: [
    "kubeferry migrate --pair onprem-to-west -n shop",
    "kubeferry migrate --pair onprem-to-west -n shop -l app=db --standby --existing update",
    "kubeferry migrate --pair onprem-to-west -n shop --dry-run -o json",
    "kubeferry migrate --pair onprem-to-west -n shop --standby --full-restore",
    "kubeferry migrate --pair k3s-to-eks -n ledger --volume-transport file --quiesce",
    "kubeferry migrate --pair onprem-to-west -n ledger --standby --group-snapshots required",
    "kubeferry migrate --pair onprem-to-west -n shop --remote --state-machine arn:aws:states:eu-west-1:123456789012:stateMachine:kubeferry-migrate",
  ],
  async run(invocation, context) {
    const request = {
      ...selection(invocation),
      // A one-off migration starts the applications; --standby keeps them at 0 for DR.
      startApplications: invocation.values.standby !== true,
      existingResources: choiceOption(invocation, "existing", ["skip", "update", "fail"], "update"),
      dryRun: invocation.values["dry-run"] === true,
      fullRestore: invocation.values["full-restore"] === true,
      ...(invocation.values["volume-transport"] === undefined
        ? {}
        : {
            volumeTransport: choiceOption(invocation, "volume-transport", ["auto", "block", "file"], "auto"),
          }),
      // Scale the writers of volumes read live (no snapshots) to 0 for the copy.
      quiesce: invocation.values.quiesce === true,
      // A namespace's PVCs on one driver cut at one instant (a VolumeGroupSnapshot) where it can.
      groupSnapshots: choiceOption(invocation, "group-snapshots", ["auto", "required", "off"], "auto"),
      excludeResourceTypes: listOption(invocation, "exclude-resource"),
      lockPolicy: choiceOption(invocation, "lock", ["wait", "skip"], "skip"),
    };
    const result = await runWorkflow(invocation.values, context, "migrate", request);
    context.output.result(result, runReport(result));
    return exitCodeOf(result);
  },
};

export async function runWorkflow<Result = RunResult>(
  values: Record<string, unknown>,
  context: Parameters<Command["run"]>[1],
  workflow: WorkflowName,
  request: unknown,
  name = newRunName(),
): Promise<Result> {
  if (values.remote !== true) {
    // The workflow would refuse it too (ValidateRequest); a typo deserves a one-line usage error.
    const pair = (request as { pair: string }).pair;
    if (!(await context.deps.pairs.get(pair))) {
      throw new UsageError(`unknown pair "${pair}" (kubeferry pair list shows the pairs)`);
    }
    return runLocally<Result>(context, workflow, request, name);
  }
  const arn = (values["state-machine"] as string | undefined) ?? process.env.KUBEFERRY_STATE_MACHINE_ARN;
  if (!arn)
    throw new UsageError(
      "--remote needs --state-machine ARN (the stack's output) or KUBEFERRY_STATE_MACHINE_ARN",
    );
  return runRemotely<Result>(context.output, arn, request, name);
}
