import { z } from "zod";
import { ValidationError } from "../../errors.ts";
import type { BlobStore } from "../../repository/blob-store.ts";
import type { StepDeps } from "../step-deps.ts";
import { isLocalTaskToken, type TaskAnswer, type TaskAnswerSender } from "../task-answers.ts";

/**
 * A cutover waiting at its approval gate: the task token of the waiting Task, recorded in the
 * pair's repository under the run, where `kubeferry approve RUN` finds it.
 */
export const approvalRequestSchema = z.object({
  runId: z.string(),
  execution: z.string(),
  pair: z.string(),
  namespaces: z.array(z.string()),
  token: z.string(),
  requestedAt: z.string(),
});

export type ApprovalRequest = z.infer<typeof approvalRequestSchema>;

/** The error name SendTaskFailure gives a rejected cutover: the machine's Catch routes on it. */
export const cutoverRejectedError = "CutoverRejected";

const approvalKey = (runId: string) => `cutovers/${runId}/approval.json`;

export async function recordApprovalRequest(store: BlobStore, request: ApprovalRequest): Promise<void> {
  await store.put(
    approvalKey(request.runId),
    Buffer.from(JSON.stringify(approvalRequestSchema.parse(request))),
  );
}

export async function readApprovalRequest(
  store: BlobStore,
  runId: string,
): Promise<ApprovalRequest | undefined> {
  const data = await store.get(approvalKey(runId));
  return data === undefined ? undefined : approvalRequestSchema.parse(JSON.parse(data.toString("utf8")));
}

export type ApprovalDecision = { approve: true; by: string } | { approve: false; by: string; reason: string };

/** Where answers go: Step Functions for a token it issued, the local runner's store for a local one. */
export interface ApprovalChannels {
  stepFunctions: () => TaskAnswerSender;
  local: TaskAnswerSender;
}

/**
 * Answers a cutover's approval gate (what `kubeferry approve` does): approve lets the
 * destination be activated, reject starts the source again. The run is looked up in the
 * repositories of the given pairs.
 */
export async function answerApproval(
  stores: ReadonlyArray<{ pair: string; store: BlobStore }>,
  runId: string,
  decision: ApprovalDecision,
  channels: ApprovalChannels,
  now = new Date(),
): Promise<ApprovalRequest> {
  let request: ApprovalRequest | undefined;
  for (const { store } of stores) {
    request = await readApprovalRequest(store, runId);
    if (request) break;
  }
  if (request === undefined) {
    throw new ValidationError(
      `run ${runId}: no cutover of ${stores.map((s) => s.pair).join(", ") || "any pair"} is waiting for approval; ` +
        "check the run name `kubeferry cutover` printed (and --pair)",
    );
  }
  const answer: TaskAnswer = decision.approve
    ? { outcome: "success", output: { approvedBy: decision.by, approvedAt: now.toISOString() } }
    : {
        outcome: "failure",
        error: cutoverRejectedError,
        cause: `rejected by ${decision.by}: ${decision.reason}`,
      };
  const channel = isLocalTaskToken(request.token) ? channels.local : channels.stepFunctions();
  await channel.send(request.token, answer);
  return request;
}

/** The repositories a run is looked up in: the named pair's, else every pair's. */
export async function approvalStores(
  deps: Pick<StepDeps, "pairs" | "openRepository">,
  pair?: string,
): Promise<Array<{ pair: string; store: BlobStore }>> {
  if (pair !== undefined && (await deps.pairs.get(pair)) === undefined) {
    throw new ValidationError(`pair: "${pair}" does not exist (kubeferry pair list shows the pairs)`);
  }
  const names = pair !== undefined ? [pair] : (await deps.pairs.list()).map((record) => record.name);
  return Promise.all(
    names.map(async (name) => ({ pair: name, store: (await deps.openRepository(name)).store })),
  );
}
