import { userInfo } from "node:os";
import { SFNClient } from "@aws-sdk/client-sfn";
import {
  type ApprovalDecision,
  answerApproval,
  approvalStores,
} from "../../functions/lib/workflow/cutover/approvals.ts";
import type { CutoverResult } from "../../functions/lib/workflow/cutover/result.ts";
import { rootStore } from "../../functions/lib/workflow/repository-location.ts";
import { StoreTaskAnswers, stepFunctionsAnswers } from "../../functions/lib/workflow/task-answers.ts";
import {
  type Command,
  choiceOption,
  countOption,
  positional,
  selection,
  selectionOptions,
  stringOption,
  UsageError,
} from "../command.ts";
import { cutoverReport, exitCodeOf } from "../report.ts";
import { newRunName } from "../run-workflow.ts";
import { runWorkflow } from "./migrate.ts";

export const cutover: Command = {
  path: ["cutover"],
  summary:
    "guarded cutover: sync while the source runs, stop it, sync and verify again, wait for `kubeferry approve`, start the destination (or the source again)",
  usage:
    "--pair PAIR -n NAMESPACE [-n …] [-l SELECTOR] [--approval-timeout SECONDS] [--ready-timeout SECONDS] " +
    "[--volume-transport auto|block|file] [--lock wait|skip] [--remote --state-machine ARN]",
  options: {
    ...selectionOptions,
    "approval-timeout": { type: "string" },
    "ready-timeout": { type: "string" },
    "volume-transport": { type: "string" },
    lock: { type: "string" },
    remote: { type: "boolean" },
    "state-machine": { type: "string" },
  },
  examples: [
    "kubeferry cutover --pair onprem-to-west -n ledger",
    "kubeferry cutover --pair onprem-to-west -n ledger --approval-timeout 3600 -o json",
    "kubeferry cutover --pair onprem-to-west -n ledger --remote --state-machine arn:aws:states:eu-west-1:123456789012:stateMachine:kubeferry-cutover",
  ],
  async run(invocation, context) {
    const approvalTimeoutSeconds = countOption(invocation, "approval-timeout");
    const readyTimeoutSeconds = countOption(invocation, "ready-timeout");
    const request = {
      mode: "cutover",
      ...selection(invocation),
      ...(approvalTimeoutSeconds === undefined ? {} : { approvalTimeoutSeconds }),
      ...(readyTimeoutSeconds === undefined ? {} : { readyTimeoutSeconds }),
      ...(invocation.values["volume-transport"] === undefined
        ? {}
        : {
            volumeTransport: choiceOption(invocation, "volume-transport", ["auto", "block", "file"], "auto"),
          }),
      lockPolicy: choiceOption(invocation, "lock", ["wait", "skip"], "skip"),
    };
    const name = newRunName();
    // The gate waits for a person: say up front how to answer it.
    context.output.line(
      `cutover ${name}: at the approval gate, answer with \`kubeferry approve ${name}\` (or --reject --reason TEXT)`,
    );
    const result = await runWorkflow<CutoverResult>(invocation.values, context, "cutover", request, name);
    context.output.result(result, cutoverReport(result));
    return exitCodeOf(result);
  },
};

export const approve: Command = {
  path: ["approve"],
  summary: "answer a cutover's approval gate: start the destination, or with --reject start the source again",
  usage: "RUN [--reject [--reason TEXT]] [--pair PAIR]",
  options: { reject: { type: "boolean" }, reason: { type: "string" }, pair: { type: "string" } },
  examples: [
    "kubeferry approve kf-20261203-120000-a1b2c3",
    'kubeferry approve kf-20261203-120000-a1b2c3 --reject --reason "checksums look wrong"',
    "kubeferry approve kf-20261203-120000-a1b2c3 --pair onprem-to-west --store s3://kubeferry-staging/repositories --kms-key alias/kubeferry",
  ],
  async run(invocation, context) {
    const run = positional(invocation, 0, "RUN (the run name `kubeferry cutover` printed)");
    const reason = stringOption(invocation, "reason");
    const reject = invocation.values.reject === true;
    if (reason !== undefined && !reject) throw new UsageError("--reason goes with --reject");
    const by = `${userInfo().username} (kubeferry approve)`;
    const decision: ApprovalDecision = reject
      ? { approve: false, by, reason: reason ?? "no reason given" }
      : { approve: true, by };
    const request = await answerApproval(
      await approvalStores(context.deps, stringOption(invocation, "pair")),
      run,
      decision,
      {
        stepFunctions: () => stepFunctionsAnswers(new SFNClient({})),
        local: new StoreTaskAnswers(rootStore(context.location)),
      },
    );
    const verdict = reject ? "rejected" : "approved";
    context.output.result(
      { run, pair: request.pair, namespaces: request.namespaces, decision: verdict },
      reject
        ? `cutover ${run} rejected: the source of pair ${request.pair} is started again, the destination stays in standby`
        : `cutover ${run} approved: the destination of pair ${request.pair} is being started`,
    );
    return 0;
  },
};
