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
export async function runRemotely<Result = RunResult>(
  output: Output,
  stateMachineArn: string,
  request: unknown,
  name: string,
  pollMs = 5_000,
): Promise<Result> {
  const sfn = new SFNClient({});
  const { executionArn } = await sfn.send(
    new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(request) }),
  );
  output.line(`started ${executionArn}`);
  let published: Result | undefined;
  // Long runs have far more than one page of history (each range is several events).
  let pageToken: string | undefined;
  let lastEventId = 0;
  const readNewEvents = async () => {
    let token = pageToken;
    for (;;) {
      const page = await sfn.send(
        new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, nextToken: token }),
      );
      for (const event of page.events ?? []) {
        if ((event.id ?? 0) <= lastEventId) continue;
        lastEventId = event.id ?? lastEventId;
        published = follow<Result>(output, event) ?? published;
      }
      if (!page.nextToken) {
        pageToken = token;
        return;
      }
      token = page.nextToken;
    }
  };
  for (;;) {
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    // Read after the status: events written just before the end are not missed.
    await readNewEvents();
    if (execution.status !== "RUNNING" && execution.status !== "PENDING_REDRIVE") {
      if (published) return published;
      throw new Error(
        `execution ${executionArn} ended ${execution.status}: ${execution.error ?? ""} ${execution.cause ?? ""}`,
      );
    }
    await sleep(pollMs);
  }
}

function follow<Result>(output: Output, event: HistoryEvent): Result | undefined {
  const entered = event.stateEnteredEventDetails;
  if (entered?.name) output.line(`▸ ${entered.name}`);
  const exited = event.stateExitedEventDetails;
  if (exited?.name?.startsWith("Publish") && exited.name !== "PublishStarted" && exited.output) {
    return (JSON.parse(exited.output) as { result?: Result }).result;
  }
  return undefined;
}
