import { SFNClient, StopExecutionCommand } from "@aws-sdk/client-sfn";
import { type Command, positional, stringOption, UsageError } from "../command.ts";
import { cancelLocalRun } from "../local-cancel.ts";

export const cancel: Command = {
  path: ["cancel"],
  summary:
    "stop a running migration or activation; its compensation cleans up, releases its locks and publishes Aborted",
  usage: "RUN [--remote --state-machine ARN]",
  options: { remote: { type: "boolean" }, "state-machine": { type: "string" } },
  examples: [
    "kubeferry cancel kf-20261126-101500-a1b2c3",
    "kubeferry cancel kf-20261126-101500-a1b2c3 --remote --state-machine arn:aws:states:eu-west-1:123456789012:stateMachine:kubeferry-migrate",
    "kubeferry cancel arn:aws:states:eu-west-1:123456789012:execution:kubeferry-migrate:kf-20261126-101500-a1b2c3 --remote",
  ],
  async run(invocation, context) {
    const run = positional(invocation, 0, "RUN (the run name `kubeferry migrate` printed)");
    if (invocation.values.remote !== true) {
      await cancelLocalRun(context.home, run);
      context.output.result(
        { run, status: "Aborted" },
        `run ${run} cancelled: its temporary objects are removed, its locks released (kubeferry status ${run})`,
      );
      return 0;
    }
    const executionArn = executionArnOf(run, stringOption(invocation, "state-machine"));
    await new SFNClient({}).send(
      new StopExecutionCommand({ executionArn, error: "Cancelled", cause: "kubeferry cancel" }),
    );
    context.output.result(
      { run, executionArn, status: "Aborted" },
      `stopped ${executionArn}; the compensation of its ending removes its temporary objects, releases its locks and publishes Aborted`,
    );
    return 0;
  },
};

/** A run's execution: given as an ARN, or by name under the state machine (executions are named after runs). */
function executionArnOf(run: string, stateMachine: string | undefined): string {
  if (run.startsWith("arn:")) return run;
  const machine = stateMachine ?? process.env.KUBEFERRY_STATE_MACHINE_ARN;
  if (!machine?.includes(":stateMachine:")) {
    throw new UsageError(
      "--remote needs the run's execution ARN, or --state-machine ARN (the stack's output) or KUBEFERRY_STATE_MACHINE_ARN",
    );
  }
  return `${machine.replace(":stateMachine:", ":execution:")}:${run}`;
}
