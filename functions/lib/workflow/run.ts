import { z } from "zod";
import { migrationRequestSchema } from "./request.ts";

/** What every step after ValidateRequest receives as `$.run`: the validated request and the run's identity. */
export const runSchema = z.object({
  /** The execution name: unique per run, used to label temporary objects and name manifests. */
  id: z.string().min(1),
  execution: z.string().min(1),
  startedAt: z.string().min(1),
  request: migrationRequestSchema,
});
export type Run = z.output<typeof runSchema>;

/** The run id as a Kubernetes label value and S3 key part: at most 63 of [a-z0-9-]. */
export function runIdFromExecutionName(name: string): string {
  const id = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(-63)
    .replace(/^-+/, "");
  if (id === "") throw new Error(`execution name ${JSON.stringify(name)} gives no usable run id`);
  return id;
}
