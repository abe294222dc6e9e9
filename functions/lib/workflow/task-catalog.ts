/**
 * Every Lambda-backed Task of the workflows (and the compensation of their endings), with the sizing its function gets. Timeouts stay
 * below each Task's TimeoutSeconds (870 vs 900, 60 vs 90) so Lambda reports the timeout, not
 * States.Timeout while the invocation still runs. The ASL
 * files name each function as `${<Name>FunctionArn}`; infra creates one function per
 * entry and the local runner routes each Task to the same step code in-process.
 */
export const taskCatalog = {
  ValidateRequest: { memoryMiB: 256, timeoutSeconds: 60, environment: "step", clusters: false },
  AcquireLock: { memoryMiB: 256, timeoutSeconds: 60, environment: "step", clusters: false },
  PairClusters: { memoryMiB: 512, timeoutSeconds: 300, environment: "step", clusters: true },
  DiscoverResources: { memoryMiB: 1024, timeoutSeconds: 870, environment: "step", clusters: true },
  PreHooks: { memoryMiB: 256, timeoutSeconds: 870, environment: "step", clusters: true },
  SnapshotVolumes: { memoryMiB: 256, timeoutSeconds: 870, environment: "step", clusters: true },
  PostHooks: { memoryMiB: 256, timeoutSeconds: 870, environment: "step", clusters: true },
  // One look at the snapshots, no waiting: the state machine's Wait loop does that.
  CheckSnapshots: { memoryMiB: 256, timeoutSeconds: 60, environment: "step", clusters: true },
  PlanRanges: { memoryMiB: 512, timeoutSeconds: 870, environment: "step", clusters: true },
  // Hashing, encryption and upload of up to a range batch: CPU scales with memory.
  StageRange: { memoryMiB: 2048, timeoutSeconds: 870, environment: "step", clusters: true },
  CommitRun: { memoryMiB: 1024, timeoutSeconds: 870, environment: "step", clusters: true },
  PrepareVolumes: { memoryMiB: 512, timeoutSeconds: 870, environment: "step", clusters: true },
  RestoreRange: { memoryMiB: 2048, timeoutSeconds: 870, environment: "step", clusters: true },
  FinalizeVolumes: { memoryMiB: 512, timeoutSeconds: 870, environment: "step", clusters: true },
  ApplyResources: { memoryMiB: 1024, timeoutSeconds: 870, environment: "step", clusters: true },
  Verify: { memoryMiB: 512, timeoutSeconds: 870, environment: "step", clusters: true },
  Cleanup: { memoryMiB: 256, timeoutSeconds: 870, environment: "step", clusters: true },
  // A drill's restore input from its latest committed run, and its scratch namespaces.
  PlanDrill: { memoryMiB: 512, timeoutSeconds: 870, environment: "step", clusters: true },
  // One look at a drill's copy and its health checks (their timeouts add up to at most 840 s).
  CheckDrill: { memoryMiB: 256, timeoutSeconds: 870, environment: "step", clusters: true },
  ReleaseLock: { memoryMiB: 256, timeoutSeconds: 60, environment: "step", clusters: false },
  PublishResult: { memoryMiB: 256, timeoutSeconds: 60, environment: "publish", clusters: false },
  ValidateActivation: { memoryMiB: 256, timeoutSeconds: 60, environment: "step", clusters: false },
  SetActivation: { memoryMiB: 512, timeoutSeconds: 870, environment: "step", clusters: true },
  ValidateCutover: { memoryMiB: 256, timeoutSeconds: 60, environment: "step", clusters: false },
  // Hooks, the scale-down and the wait for the source's pods (quiesceTimeoutSeconds ≤ 600) in one call.
  QuiesceSource: { memoryMiB: 256, timeoutSeconds: 870, environment: "step", clusters: true },
  // Records the gate's task token and publishes it; the waiting happens in Step Functions.
  RequestApproval: { memoryMiB: 256, timeoutSeconds: 60, environment: "publish", clusters: false },
  // One activation and one look at readiness; the state machine's Wait loop does the waiting.
  ActivateDestination: { memoryMiB: 256, timeoutSeconds: 120, environment: "step", clusters: true },
  ResumeSource: { memoryMiB: 256, timeoutSeconds: 300, environment: "step", clusters: true },
  PublishCutover: { memoryMiB: 256, timeoutSeconds: 60, environment: "publish", clusters: false },
  // Not a Task: the target of the rule on executions that end FAILED, TIMED_OUT or ABORTED
  // (Cleanup, ReleaseLock and PublishResult of the run), invoked by EventBridge.
  Compensate: { memoryMiB: 256, timeoutSeconds: 870, environment: "publish", clusters: true },
} as const satisfies Record<string, TaskSizing>;

export interface TaskSizing {
  memoryMiB: number;
  timeoutSeconds: number;
  environment: "step" | "publish";
  /** Talks to the source or destination cluster: runs as the shared cluster-access role. */
  clusters: boolean;
}

export type TaskName = keyof typeof taskCatalog;
export const taskNames = Object.keys(taskCatalog) as TaskName[];

/** `ValidateRequest` → `validate-request`: the handler file under functions/handlers/. */
export function handlerFileName(task: TaskName): string {
  return task.replace(/[A-Z]/g, (letter, offset: number) => (offset > 0 ? "-" : "") + letter.toLowerCase());
}

/** The deployed function's description, `kubeferry <Task>`: how a template names each Task's function. */
export function functionDescription(task: TaskName): string {
  return `kubeferry ${task}`;
}

/** The Task of a function described by `functionDescription`, if any. */
export function taskOfDescription(description: unknown): TaskName | undefined {
  const task = typeof description === "string" ? /^kubeferry (\w+)$/.exec(description)?.[1] : undefined;
  return taskNames.find((name) => name === task);
}
