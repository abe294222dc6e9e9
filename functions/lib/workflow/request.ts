import { z } from "zod";
import { ValidationError } from "../errors.ts";
import { isLabelSelector } from "../kube/label-selector.ts";
import { resourceModifiersSchema } from "../kube/transform/resource-modifiers.ts";
import { defaultChunkSize } from "../repository/image-manifest.ts";

// RFC 1123 label: what Kubernetes accepts as a namespace name.
const dnsLabel = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, "must be a DNS-1123 label (lowercase letters, digits, '-')");

const execHookSchema = z.strictObject({
  podSelector: z.string().refine(isLabelSelector, "must be a label selector such as app=db"),
  container: z.string().min(1),
  command: z.array(z.string()).min(1, 'give the command as a list, e.g. ["sh", "-c", "sync"]'),
  timeoutSeconds: z.number().int().min(1).max(840).default(60),
  onError: z.enum(["fail", "continue"]).default("fail"),
});

// A drill's health checks run one after another in one invocation (CheckDrill, 870 s).
const healthCheckBudgetSeconds = 840;

/** A command run in a pod of the drill's copy once its workloads are ready; exit 0 passes. */
const healthCheckSchema = execHookSchema.omit({ onError: true });

export const drillSchema = z
  .strictObject({
    healthChecks: z
      .array(healthCheckSchema)
      .max(20)
      .default([])
      .describe(
        "commands run through exec in the drill's pods once its workloads are ready; all must exit 0",
      ),
    readyTimeoutSeconds: z
      .number()
      .int()
      .min(10)
      // At most an hour: the state machine's look-and-wait loop stays far inside an execution's history limit.
      .max(3_600)
      .default(900)
      .describe(
        "how long the drill's workloads may take, once applied, to be ready and pass their health checks",
      ),
  })
  .superRefine((drill, context) => {
    const total = drill.healthChecks.reduce((sum, check) => sum + check.timeoutSeconds, 0);
    if (total > healthCheckBudgetSeconds) {
      context.addIssue({
        code: "custom",
        path: ["healthChecks"],
        message: `the checks' timeoutSeconds add up to ${total}; they run in one invocation, keep the sum at most ${healthCheckBudgetSeconds}`,
      });
    }
  });

export type DrillRequest = z.output<typeof drillSchema>;

/**
 * A migration request: what a person types into "Start execution", what a schedule or
 * an EventBridge rule sends, and what the CLI builds. Unknown fields are refused so a
 * typo (`namespace` for `namespaces`) cannot silently migrate the wrong thing.
 */
export const migrationRequestSchema = z
  .strictObject({
    pair: dnsLabel.describe("name of a pair created with `kubeferry pair create`"),
    namespaces: z.array(dnsLabel).min(1, "name at least one namespace to migrate"),
    selector: z
      .string()
      .refine(isLabelSelector, "must be a label selector such as app=db,tier in (web,api)")
      .optional()
      .describe("label selector limiting the objects and volumes moved"),
    includeResources: z.boolean().default(true),
    includeVolumes: z.boolean().default(true),
    startApplications: z
      .boolean()
      .default(false)
      .describe("false applies workloads scaled to 0 (standby); activate starts them"),
    existingResources: z.enum(["skip", "update", "fail"]).default("update"),
    dryRun: z.boolean().default(false),
    fullRestore: z
      .boolean()
      .default(false)
      .describe(
        "rewrite every chunk of a standby volume that differs from the source (after failback, or a failed verification)",
      ),
    standbyInUse: z
      .enum(["skip", "fail"])
      .default("skip")
      .describe(
        "what a run does when a pod mounts the standby volume it would update (an activated copy): it writes nothing either way",
      ),
    lockPolicy: z
      .enum(["wait", "skip"])
      .default("skip")
      .describe("what a run does while another run of the same pair and namespaces holds the lock"),
    failFast: z.boolean().default(false).describe("stop at the first object the destination refuses"),
    resourceModifiers: resourceModifiersSchema
      .default([])
      .describe("JSON Patch / merge patch rules applied to matching objects (Velero resource modifiers)"),
    includeResourceTypes: z
      .array(z.string().min(1))
      .default([])
      .describe('globs over "resource.group" to export, e.g. ["*.apps", "configmaps"]; empty means all'),
    excludeResourceTypes: z.array(z.string().min(1)).default([]),
    imageRegistryMapping: z
      .record(z.string().min(1), z.string().min(1))
      .default({})
      .describe(
        'image prefix rewrites, e.g. {"registry.onprem.local/": "123.dkr.ecr.eu-west-1.amazonaws.com/"}',
      ),
    rangeBytes: z
      .number()
      .int()
      .min(defaultChunkSize, `must be at least one chunk (${defaultChunkSize} bytes)`)
      .optional()
      .describe(
        "bytes per range (one Map item, one invocation) of each volume's plan, rounded up to whole chunks; default: the planner's",
      ),
    volumeTransport: z
      .enum(["auto", "block", "file"])
      .optional()
      .describe(
        "how volumes move: block (a snapshot copied as a device), file (file by file, from a snapshot or the live volume between the hooks), auto (block where the driver serves snapshots as Block); default: the pair's, else auto",
      ),
    groupSnapshots: z
      .enum(["auto", "required", "off"])
      .default("auto")
      .describe(
        "cut the snapshotted PVCs of a namespace on one driver as one VolumeGroupSnapshot (crash-consistent across them): auto where the driver offers a VolumeGroupSnapshotClass, required (refuse the run otherwise), off (one snapshot per PVC)",
      ),
    quiesce: z
      .boolean()
      .default(false)
      .describe(
        "file transport without snapshots: scale the StatefulSets and Deployments mounting such volumes to 0 while they are read (consistency quiesced), and back once they are staged or the run fails",
      ),
    fullPassEvery: z
      .number()
      .int()
      .min(1)
      .default(10)
      .describe(
        "file transport: every Nth run of a volume hashes every file, not only those whose size or mtime changed",
      ),
    snapshotTimeoutSeconds: z
      .number()
      .int()
      .min(60)
      // At most 3 days: the execution's 7-day timeout leaves the rest for moving the bytes.
      .max(259_200)
      .default(86_400)
      .describe(
        "how long the snapshots may take to become ready (a first EBS snapshot takes hours); the state machine waits, not a function",
      ),
    hooks: z
      .strictObject({ pre: z.array(execHookSchema).default([]), post: z.array(execHookSchema).default([]) })
      .default({ pre: [], post: [] })
      .describe("commands run in application pods around the snapshots, for application-consistent copies"),
    drill: drillSchema
      .optional()
      .describe(
        "makes the run a DR drill: the latest committed run of the namespaces is restored into a scratch namespace, started, health-checked and deleted; nothing is staged",
      ),
  })
  .superRefine((request, context) => {
    if (request.drill && request.dryRun) {
      context.addIssue({
        code: "custom",
        path: ["dryRun"],
        message: "a drill restores and starts a scratch copy; it has no dry run (drop dryRun or drill)",
      });
    }
    refuseRepeatedNamespaces(request, context);
  });

function refuseRepeatedNamespaces(request: { namespaces: string[] }, context: z.RefinementCtx): void {
  const seen = new Set<string>();
  for (const [index, namespace] of request.namespaces.entries()) {
    if (seen.has(namespace)) {
      context.addIssue({
        code: "custom",
        path: ["namespaces", index],
        message: `"${namespace}" is listed twice`,
      });
    }
    seen.add(namespace);
  }
}

export type MigrationRequest = z.output<typeof migrationRequestSchema>;

/**
 * An activation request: failover (activate: scale the standby copy up, resume its CronJobs)
 * or failback (deactivate: scale to 0, suspend), on the destination side of a pair by default.
 */
export const activationRequestSchema = z.strictObject({
  pair: dnsLabel,
  namespaces: z.array(dnsLabel).min(1, "name at least one namespace"),
  action: z.enum(["activate", "deactivate"]),
  /** Which cluster of the pair; namespaces are the source's names, mapped for the destination. */
  side: z.enum(["destination", "source"]).default("destination"),
  selector: z.string().refine(isLabelSelector, "must be a label selector such as app=db").optional(),
  lockPolicy: z.enum(["wait", "skip"]).default("skip"),
});

export type ActivationRequest = z.output<typeof activationRequestSchema>;

/** Parses a request, or throws a ValidationError naming every bad field and what is expected. */
export function parseRequest<Schema extends z.ZodType>(
  schema: Schema,
  input: unknown,
  what: string,
): z.output<Schema> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  throw new ValidationError(`invalid ${what}: ${describeIssues(parsed.error)}`);
}

export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const field = issue.path.length > 0 ? issue.path.join(".") : "(request)";
      if (issue.code === "unrecognized_keys") {
        return `unknown field ${issue.keys.map((key) => `"${key}"`).join(", ")}: remove it (see the request schema in README.md)`;
      }
      return `${field}: ${issue.message}`;
    })
    .join("; ");
}

const migrationFields = migrationRequestSchema.shape;

/**
 * A guarded cutover: two standby migrations (one while the source runs, one after it is
 * quiesced), an approval, then the destination started. The migration fields it takes are the
 * ones that choose and shape what moves; the syncs are always standby migrations of objects and
 * volumes (their requests are built from this one, see `cutoverSyncRequest`).
 */
export const cutoverRequestSchema = z
  .strictObject({
    // Required: a request of only a pair and namespaces would otherwise read as a migration's too,
    // and the compensation of an ending tells the workflows' requests apart by their fields.
    mode: z.literal("cutover", { error: 'must be "cutover" (the cutover state machine\'s request)' }),
    pair: migrationFields.pair,
    namespaces: migrationFields.namespaces,
    selector: migrationFields.selector,
    existingResources: migrationFields.existingResources,
    lockPolicy: migrationFields.lockPolicy,
    resourceModifiers: migrationFields.resourceModifiers,
    includeResourceTypes: migrationFields.includeResourceTypes,
    excludeResourceTypes: migrationFields.excludeResourceTypes,
    imageRegistryMapping: migrationFields.imageRegistryMapping,
    rangeBytes: migrationFields.rangeBytes,
    volumeTransport: migrationFields.volumeTransport,
    groupSnapshots: migrationFields.groupSnapshots,
    snapshotTimeoutSeconds: migrationFields.snapshotTimeoutSeconds,
    hooks: migrationFields.hooks,
    quiesceHooks: z
      .array(execHookSchema)
      .default([])
      .describe(
        "commands run in the source's application pods before it is scaled to 0 (flush, drain connections)",
      ),
    quiesceTimeoutSeconds: z
      .number()
      .int()
      .min(30)
      .max(600)
      .default(300)
      .describe("how long the source's pods may take to terminate once scaled to 0"),
    approvalTimeoutSeconds: z
      .number()
      .int()
      .min(120)
      // At most a week: the machine's 22 days hold two syncs of at most a week each besides.
      .max(604_800)
      .default(86_400)
      .describe("how long the approval gate waits for `kubeferry approve`; then the source is started again"),
    readyTimeoutSeconds: z
      .number()
      .int()
      .min(60)
      .max(86_400)
      .default(900)
      .describe(
        "how long the activated destination's workloads may take to become ready; then the cutover is rolled back",
      ),
  })
  .superRefine(refuseRepeatedNamespaces);

export type CutoverRequest = z.output<typeof cutoverRequestSchema>;

/** The standby migration each sync of a cutover runs: its selection, objects and volumes, applications at 0. */
export function cutoverSyncRequest(request: CutoverRequest): MigrationRequest {
  const {
    mode: _mode,
    quiesceHooks: _hooks,
    quiesceTimeoutSeconds: _quiesce,
    approvalTimeoutSeconds: _approval,
    readyTimeoutSeconds: _ready,
    ...fields
  } = request;
  return migrationRequestSchema.parse({
    ...fields,
    includeResources: true,
    includeVolumes: true,
    startApplications: false,
    dryRun: false,
  });
}
