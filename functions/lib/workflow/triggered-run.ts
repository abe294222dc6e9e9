import { createHash } from "node:crypto";
import { z } from "zod";
import { ValidationError } from "../errors.ts";
import { describeIssues } from "./request.ts";

/**
 * Runs started by a trigger are named after what fired them, so a second delivery of the same
 * trigger (EventBridge and Scheduler deliver at least once) asks for the same execution name.
 * Step Functions answers StartExecution with an existing name and the same input by returning the
 * running execution (Standard workflows), and with ExecutionAlreadyExists when that execution has
 * ended or the input differs: either way no second run starts
 * (https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html).
 */
export const triggerSchema = z.union([
  /** A schedule's firing: `<aws.scheduler.scheduled-time>` is the same on every delivery of it. */
  z.strictObject({ schedule: z.string().min(1), scheduledTime: z.iso.datetime() }),
  /** An EventBridge event: its `id` is the same on every delivery of it. */
  z.strictObject({ eventId: z.string().min(1) }),
]);

export const triggeredRunSchema = z.strictObject({
  trigger: triggerSchema,
  /** The migration request; ValidateRequest checks it in the run, where a bad one is reported. */
  request: z.record(z.string(), z.unknown()),
});

export type Trigger = z.infer<typeof triggerSchema>;
export type TriggeredRun = z.infer<typeof triggeredRunSchema>;

/** Step Functions' limit on execution names. */
const maxNameLength = 80;
/** The run id is the name's last 63 characters (runIdFromExecution): keep the whole name in it. */
const maxUsefulLength = 63;

/**
 * `kf-<schedule>-<yyyymmddThhmmssZ>` or `kf-ev-<event id>`: letters, digits, '-' and '_' only
 * (a scheduled time's ':' is not allowed in an execution name), at most 63 characters; a longer
 * part is shortened with a hash of it, so distinct triggers keep distinct names.
 */
export function executionNameFor(trigger: Trigger): string {
  const name =
    "eventId" in trigger
      ? `kf-ev-${namePart(trigger.eventId, maxUsefulLength - 6)}`
      : `kf-${namePart(trigger.schedule, maxUsefulLength - 20)}-${compactTime(trigger.scheduledTime)}`;
  if (name.length > maxNameLength) throw new Error(`execution name ${name} is too long`);
  return name;
}

function namePart(part: string, length: number): string {
  const clean = part.replace(/[^A-Za-z0-9_-]+/g, "-");
  if (clean.length <= length && clean === part) return clean;
  // Cleaning or cutting could make two triggers' parts equal: a digest of the original keeps them apart.
  const digest = createHash("sha256").update(part).digest("hex").slice(0, 8);
  return `${clean.slice(0, length - 9)}-${digest}`;
}

/** 2026-03-22T18:59:43Z → 20260322T185943Z */
function compactTime(iso: string): string {
  return `${new Date(iso).toISOString().slice(0, 19).replace(/[-:]/g, "")}Z`;
}

/** Starts an execution; rejects with ExecutionAlreadyExists as Step Functions does. */
export interface ExecutionStarter {
  start(name: string, input: string): Promise<{ executionArn: string }>;
}

/** StartExecution refused the name: that trigger already started its run. */
export class ExecutionAlreadyExists extends Error {
  override readonly name = "ExecutionAlreadyExists";
}

export type TriggeredStart =
  | { executionName: string; started: true; executionArn: string }
  | { executionName: string; started: false; reason: string };

/** Starts the run of one trigger delivery; a repeated delivery starts nothing. */
export async function startTriggeredRun(event: unknown, starter: ExecutionStarter): Promise<TriggeredStart> {
  const parsed = triggeredRunSchema.safeParse(event);
  if (!parsed.success) {
    throw new ValidationError(`trigger input: ${describeIssues(parsed.error)}`);
  }
  const executionName = executionNameFor(parsed.data.trigger);
  try {
    const { executionArn } = await starter.start(executionName, JSON.stringify(parsed.data.request));
    return { executionName, started: true, executionArn };
  } catch (error) {
    if (!(error instanceof ExecutionAlreadyExists)) throw error;
    return {
      executionName,
      started: false,
      reason: `a delivery of the same trigger started ${executionName}`,
    };
  }
}
