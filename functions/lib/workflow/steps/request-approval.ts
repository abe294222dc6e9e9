import { z } from "zod";
import { VerifyFailed } from "../../errors.ts";
import { recordApprovalRequest } from "../cutover/approvals.ts";
import { syncOutcomeSchema } from "../cutover/result.ts";
import { cutoverDetailTypes } from "../events.ts";
import { cutoverRunSchema } from "../run.ts";
import { reportedVolumes } from "../run-result.ts";
import { defineStep } from "../step.ts";

/**
 * The approval gate's function (a `.waitForTaskToken` Task): only a final sync that succeeded
 * with every volume verified is put to a person. Records the Task's token under the run in the
 * pair's repository (where `kubeferry approve RUN` finds it) and publishes Cutover Approval
 * Needed with the sync's figures and how to answer. The token is not in the event: whoever holds
 * it can start the destination, so it is read only where reading takes the repository's (or the
 * execution history's) permissions. The Task then waits for the answer.
 */
export const requestApproval = defineStep({
  task: "RequestApproval",
  input: z.object({ run: cutoverRunSchema, finalSync: syncOutcomeSchema, token: z.string().min(1) }),
  async run({ run, finalSync, token }, deps) {
    const { result } = finalSync;
    if (
      result.status !== "Successful" ||
      result.volumes.length < Math.min(result.volumeCount, reportedVolumes)
    ) {
      throw new VerifyFailed(
        `final sync ${result.runId}: ${result.status} with ${result.volumes.length} of ${result.volumeCount} volumes ` +
          `verified (${result.error ?? "no error"}); nothing to approve, the source is started again`,
      );
    }
    const request = {
      runId: run.id,
      execution: run.execution,
      pair: run.request.pair,
      namespaces: run.request.namespaces,
      token,
      requestedAt: deps.now().toISOString(),
    };
    const { store } = await deps.openRepository(run.request.pair);
    await recordApprovalRequest(store, request);
    const { token: _token, ...announced } = request;
    await deps.publish(cutoverDetailTypes.ApprovalNeeded, {
      ...announced,
      approvalTimeoutSeconds: run.request.approvalTimeoutSeconds,
      finalSync: {
        runId: result.runId,
        volumeCount: result.volumeCount,
        volumesVerified: result.volumes.length,
        bytesStaged: result.bytesStaged,
        durationSeconds: result.durationSeconds,
      },
      approveWith: `kubeferry approve ${run.id}`,
    });
    return { recorded: true };
  },
});
