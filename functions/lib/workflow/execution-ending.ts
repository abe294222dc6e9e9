import { z } from "zod";

/**
 * The EventBridge event Step Functions sends when an execution's status changes
 * (https://docs.aws.amazon.com/step-functions/latest/dg/cw-events.html), as far as the
 * compensation reads it. `input` is the execution's input as JSON text; it is null when it is
 * too large for the event (`inputDetails.included` false), and then DescribeExecution gives it.
 */
export const executionStatusChangeDetailType = "Step Functions Execution Status Change";
export const endingStatuses = ["FAILED", "TIMED_OUT", "ABORTED"] as const;
export type EndingStatus = (typeof endingStatuses)[number];

export const executionEndingSchema = z.object({
  "detail-type": z.literal(executionStatusChangeDetailType),
  detail: z.object({
    executionArn: z.string().min(1),
    stateMachineArn: z.string().min(1),
    status: z.enum(endingStatuses),
    /** Milliseconds since the epoch. */
    startDate: z.number(),
    input: z.string().nullish(),
    error: z.string().nullish(),
    cause: z.string().nullish(),
  }),
});

export type ExecutionEnding = z.output<typeof executionEndingSchema>;

/**
 * The Error of each workflow's own Fail state: an execution that failed with it went through
 * its Catch path, which already cleaned up and published the run's result.
 */
export const workflowFailErrors = ["MigrationFailed", "ActivationFailed", "CutoverNotCompleted"] as const;

/** The event as EventBridge delivers it, for an execution that ended locally. */
export function executionEndingEvent(fields: {
  executionArn: string;
  stateMachineArn: string;
  status: EndingStatus;
  startDate: Date;
  input: unknown;
  error: string;
  cause: string;
}): ExecutionEnding & { source: string } {
  return {
    source: "aws.states",
    "detail-type": executionStatusChangeDetailType,
    detail: {
      executionArn: fields.executionArn,
      stateMachineArn: fields.stateMachineArn,
      status: fields.status,
      startDate: fields.startDate.getTime(),
      input: JSON.stringify(fields.input),
      error: fields.error,
      cause: fields.cause,
    },
  };
}
