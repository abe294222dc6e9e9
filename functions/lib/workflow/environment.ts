import { z } from "zod";

/** Secrets Manager names of registered clusters: the functions may read these and no other secrets. */
export const clusterSecretPrefix = "kubeferry/clusters/";

/**
 * The environment of every workflow function. infra/ builds each function's environment
 * from these types, so a variable added here and not provided there fails to compile.
 */
export const stepEnvironmentSchema = z.object({
  /** Staging bucket holding one chunk repository per pair. */
  KUBEFERRY_BUCKET: z.string().min(1),
  /** Key prefix of the repositories inside the bucket. */
  KUBEFERRY_PREFIX: z.string().min(1),
  /** Customer-managed KMS key that wraps each repository key. */
  KUBEFERRY_KMS_KEY_ARN: z.string().min(1),
  /** Secrets Manager name prefix of registered clusters. */
  KUBEFERRY_CLUSTER_SECRET_PREFIX: z.string().min(1),
  /**
   * The role whose sessions, tagged with one repository, may use the KMS key for that repository
   * only (functions/lib/aws/repository-key-sessions.ts). Unset in a local run: its own credentials.
   */
  KUBEFERRY_REPOSITORY_KEY_ROLE_ARN: z.string().min(1).optional(),
});

export const publishEnvironmentSchema = stepEnvironmentSchema.extend({
  /** EventBridge bus that receives Migration Started/Succeeded/Failed events. */
  KUBEFERRY_EVENT_BUS: z.string().min(1),
});

/** The scheduled garbage collection: the step environment and the runs kept per namespace. */
export const garbageEnvironmentSchema = stepEnvironmentSchema.extend({
  KUBEFERRY_KEEP_RUNS: z
    .string()
    .regex(/^[1-9][0-9]*$/, "a whole number of runs, at least 1")
    .transform(Number),
});

/** The function that starts the runs of triggers (schedules, events) under their names. */
export const startRunEnvironmentSchema = z.object({
  KUBEFERRY_MIGRATION_STATE_MACHINE_ARN: z.string().min(1),
});

export type StepEnvironment = z.infer<typeof stepEnvironmentSchema>;
export type PublishEnvironment = z.infer<typeof publishEnvironmentSchema>;
export type StartRunEnvironment = z.infer<typeof startRunEnvironmentSchema>;
export type GarbageEnvironment = z.input<typeof garbageEnvironmentSchema>;

/**
 * kubeferry's local default (no AWS): the functions run on a kubeferry home directory, as the
 * CLI does. Only the local runner sets it; infra never does, so a deployed function never
 * takes this path.
 */
export const localEnvironmentSchema = z.object({
  /** The kubeferry home: repositories, registered clusters, events. */
  KUBEFERRY_LOCAL_HOME: z.string().min(1),
});

export type LocalEnvironment = z.infer<typeof localEnvironmentSchema>;
