/**
 * Every Lambda-backed Task of the workflows, with the sizing its function gets. The ASL
 * files name each function as `${<Name>FunctionArn}`; infra creates one function per
 * entry and the local runner routes each Task to the same step code in-process.
 */
export const taskCatalog = {
  ValidateRequest: { memoryMiB: 256, timeoutSeconds: 60, environment: "step" },
  AcquireLock: { memoryMiB: 256, timeoutSeconds: 60, environment: "step" },
  PairClusters: { memoryMiB: 512, timeoutSeconds: 300, environment: "step" },
  DiscoverResources: { memoryMiB: 1024, timeoutSeconds: 900, environment: "step" },
  PreHooks: { memoryMiB: 256, timeoutSeconds: 900, environment: "step" },
  SnapshotVolumes: { memoryMiB: 256, timeoutSeconds: 900, environment: "step" },
  PostHooks: { memoryMiB: 256, timeoutSeconds: 900, environment: "step" },
  PlanRanges: { memoryMiB: 512, timeoutSeconds: 900, environment: "step" },
  // Hashing, encryption and upload of up to a range batch: CPU scales with memory.
  StageRange: { memoryMiB: 2048, timeoutSeconds: 900, environment: "step" },
  CommitRun: { memoryMiB: 1024, timeoutSeconds: 900, environment: "step" },
  PrepareVolumes: { memoryMiB: 512, timeoutSeconds: 900, environment: "step" },
  RestoreRange: { memoryMiB: 2048, timeoutSeconds: 900, environment: "step" },
  FinalizeVolumes: { memoryMiB: 512, timeoutSeconds: 900, environment: "step" },
  ApplyResources: { memoryMiB: 1024, timeoutSeconds: 900, environment: "step" },
  Verify: { memoryMiB: 512, timeoutSeconds: 900, environment: "step" },
  Cleanup: { memoryMiB: 256, timeoutSeconds: 900, environment: "step" },
  ReleaseLock: { memoryMiB: 256, timeoutSeconds: 60, environment: "step" },
  PublishResult: { memoryMiB: 256, timeoutSeconds: 60, environment: "publish" },
  ValidateActivation: { memoryMiB: 256, timeoutSeconds: 60, environment: "step" },
  SetActivation: { memoryMiB: 512, timeoutSeconds: 900, environment: "step" },
} as const satisfies Record<string, TaskSizing>;

export interface TaskSizing {
  memoryMiB: number;
  timeoutSeconds: number;
  environment: "step" | "publish";
}

export type TaskName = keyof typeof taskCatalog;
export const taskNames = Object.keys(taskCatalog) as TaskName[];

/** `ValidateRequest` → `validate-request`: the handler file under functions/handlers/. */
export function handlerFileName(task: TaskName): string {
  return task.replace(/[A-Z]/g, (letter, offset: number) => (offset > 0 ? "-" : "") + letter.toLowerCase());
}
