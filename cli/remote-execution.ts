import { setTimeout as sleep } from "node:timers/promises";
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  SFNClient,
  StartExecutionCommand,
} from "@aws-sdk/client-sfn";
import type { RunResult } from "../functions/lib/workflow/run-result.ts";
import type { Output } from "./output.ts";

/**
 * Starts the deployed workflow in AWS and follows it: each state as it is entered, until the
 * execution ends; the result is what its PublishResult state published.
 */
export async function runRemotely(
  output: Output,
  stateMachineArn: string,
  request: unknown,
  name: string,
  pollMs = 5_000,
): Promise<RunResult> {
  const sfn = new SFNClient({});
  const { executionArn } = await sfn.send(
    new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(request) }),
  );
  output.line(`started ${executionArn}`);
  let seen = 0;
  let published: RunResult | undefined;
  for (;;) {
    const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }));
    const events = history.events ?? [];
    for (const event of events.slice(seen)) published = follow(output, event) ?? published;
    seen = events.length;
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (execution.status !== "RUNNING" && execution.status !== "PENDING_REDRIVE") {
      if (published) return published;
      throw new Error(
        `execution ${executionArn} ended ${execution.status}: ${execution.error ?? ""} ${execution.cause ?? ""}`,
      );
    }
    await sleep(pollMs);
  }
}

function follow(output: Output, event: HistoryEvent): RunResult | undefined {
  const entered = event.stateEnteredEventDetails;
  if (entered?.name) output.line(`▸ ${entered.name}`);
  const exited = event.stateExitedEventDetails;
  if (exited?.name?.startsWith("Publish") && exited.name !== "PublishStarted" && exited.output) {
    return (JSON.parse(exited.output) as { result?: RunResult }).result;
  }
  return undefined;
}
