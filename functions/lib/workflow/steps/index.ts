import type { Step } from "../step.ts";
import type { TaskName } from "../task-catalog.ts";
import { acquireLock } from "./acquire-lock.ts";
import { activateDestination } from "./activate-destination.ts";
import { applyResources } from "./apply-resources.ts";
import { checkDrill } from "./check-drill.ts";
import { checkSnapshots } from "./check-snapshots.ts";
import { cleanup } from "./cleanup.ts";
import { commitRun } from "./commit-run.ts";
import { compensate } from "./compensate.ts";
import { discoverResources } from "./discover-resources.ts";
import { finalizeVolumes } from "./finalize-volumes.ts";
import { postHooks, preHooks } from "./hook-phase.ts";
import { pairClusters } from "./pair-clusters.ts";
import { planDrill } from "./plan-drill.ts";
import { planRanges } from "./plan-ranges.ts";
import { prepareVolumes } from "./prepare-volumes.ts";
import { publishCutover } from "./publish-cutover.ts";
import { publishResult } from "./publish-result.ts";
import { quiesceSource } from "./quiesce-source.ts";
import { releaseLock } from "./release-lock.ts";
import { requestApproval } from "./request-approval.ts";
import { restoreRange } from "./restore-range.ts";
import { resumeSource } from "./resume-source.ts";
import { setActivation } from "./set-activation.ts";
import { snapshotVolumes } from "./snapshot-volumes.ts";
import { stageRange } from "./stage-range.ts";
import { validateCutover } from "./validate-cutover.ts";
import { validateActivation, validateRequest } from "./validate-request.ts";
import { verify } from "./verify.ts";

/** Every Task's step: what the local runner calls where Step Functions would invoke a function. */
export const steps: Record<TaskName, Step> = {
  ValidateRequest: validateRequest,
  AcquireLock: acquireLock,
  PairClusters: pairClusters,
  DiscoverResources: discoverResources,
  PreHooks: preHooks,
  SnapshotVolumes: snapshotVolumes,
  PostHooks: postHooks,
  CheckSnapshots: checkSnapshots,
  PlanRanges: planRanges,
  StageRange: stageRange,
  CommitRun: commitRun,
  PrepareVolumes: prepareVolumes,
  RestoreRange: restoreRange,
  FinalizeVolumes: finalizeVolumes,
  ApplyResources: applyResources,
  Verify: verify,
  PlanDrill: planDrill,
  CheckDrill: checkDrill,
  Cleanup: cleanup,
  ReleaseLock: releaseLock,
  PublishResult: publishResult,
  ValidateActivation: validateActivation,
  SetActivation: setActivation,
  ValidateCutover: validateCutover,
  QuiesceSource: quiesceSource,
  RequestApproval: requestApproval,
  ActivateDestination: activateDestination,
  ResumeSource: resumeSource,
  PublishCutover: publishCutover,
  Compensate: compensate,
};
