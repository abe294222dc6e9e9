import { z } from "zod";
import { activationRequestSchema, cutoverRequestSchema, migrationRequestSchema } from "./request.ts";

const runIdentity = {
  /** From the execution name: labels temporary objects, names manifests. */
  id: z.string().min(1),
  execution: z.string().min(1),
  startedAt: z.string().min(1),
};

/** `$.run` of the migration workflow: the validated request and the run's identity. */
export const migrationRunSchema = z.object({ ...runIdentity, request: migrationRequestSchema });
/** `$.run` of the activation workflow. */
export const activationRunSchema = z.object({ ...runIdentity, request: activationRequestSchema });
/** What the steps shared by both workflows (lock, publish) read of `$.run`. */
export const runSchema = z.union([migrationRunSchema, activationRunSchema]);

export type MigrationRun = z.output<typeof migrationRunSchema>;
export type ActivationRun = z.output<typeof activationRunSchema>;
export type Run = z.output<typeof runSchema>;

/** The run id as a Kubernetes label value and key part: at most 63 of [a-z0-9-]. */
export function runIdFromExecution(execution: string): string {
  const name = execution.slice(execution.lastIndexOf(":") + 1);
  const id = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .slice(-63)
    .replace(/^-+|-+$/g, "");
  if (id === "") throw new Error(`execution ${JSON.stringify(execution)} gives no usable run id`);
  return id;
}

/** `$.run` of the cutover workflow: the validated request, and the standby migration its two syncs run. */
export const cutoverRunSchema = z.object({
  ...runIdentity,
  request: cutoverRequestSchema,
  sync: migrationRequestSchema,
});
export type CutoverRun = z.output<typeof cutoverRunSchema>;
