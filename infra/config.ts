import { existsSync, readFileSync } from "node:fs";
import { z } from "zod";
import { defaultKeepRuns } from "../functions/lib/repository/retention.ts";
import { migrationRequestSchema } from "../functions/lib/workflow/request.ts";

/**
 * Deployment configuration (`kubeferry.config.json` at the repository root, or the file
 * named by the CDK context value `kubeferry:config`). Everything is optional: the
 * default deploys the workflow with no schedules and no VPC.
 */
const scheduleSchema = z.strictObject({
  /** Schedule name, unique in the stack. */
  name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/),
  /** `rate(15 minutes)`, `cron(0 * * * ? *)` or `at(...)`, as EventBridge Scheduler takes. */
  expression: z.string().regex(/^(rate|cron|at)\(.+\)$/, "must be rate(...), cron(...) or at(...)"),
  timezone: z.string().default("UTC"),
  /** The migration request each run starts with; DR runs default to standby. */
  request: migrationRequestSchema,
  retry: z
    .strictObject({
      maximumRetryAttempts: z.number().int().min(0).max(185).default(2),
      maximumEventAgeSeconds: z.number().int().min(60).max(86_400).default(3_600),
    })
    .default({ maximumRetryAttempts: 2, maximumEventAgeSeconds: 3_600 }),
});

const vpcSchema = z.strictObject({
  vpcId: z.string().min(1),
  availabilityZones: z.array(z.string()).min(1),
  privateSubnetIds: z.array(z.string()).min(1),
});

const retentionSchema = z.strictObject({
  /** Runs kept per pair and namespace (a pair's own keepRuns wins); older run records are dropped. */
  keepRuns: z.number().int().min(1).default(defaultKeepRuns),
  /** When garbage collection (retention, then the sweep) runs, as EventBridge Scheduler takes it. */
  expression: z
    .string()
    .regex(/^(rate|cron)\(.+\)$/, "must be rate(...) or cron(...)")
    .default("rate(1 day)"),
});

export const deploymentConfigSchema = z.strictObject({
  /** Key prefix of the chunk repositories in the staging bucket. */
  repositoryPrefix: z.string().min(1).default("repositories"),
  schedules: z.array(scheduleSchema).default([]),
  retention: retentionSchema.default({ keepRuns: defaultKeepRuns, expression: "rate(1 day)" }),
  /** Private cluster endpoints: run the functions in these subnets. */
  vpc: vpcSchema.optional(),
});

export type DeploymentConfig = z.output<typeof deploymentConfigSchema>;
export type ScheduleConfig = DeploymentConfig["schedules"][number];
export type RetentionConfig = DeploymentConfig["retention"];

export function loadDeploymentConfig(path: string): DeploymentConfig {
  if (!existsSync(path)) return deploymentConfigSchema.parse({});
  const parsed = deploymentConfigSchema.safeParse(JSON.parse(readFileSync(path, "utf8")));
  if (!parsed.success) {
    throw new Error(`${path}: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}
