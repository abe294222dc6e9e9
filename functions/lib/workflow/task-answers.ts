import { createHash, randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { SendTaskFailureCommand, SendTaskSuccessCommand, type SFNClient } from "@aws-sdk/client-sfn";
import { z } from "zod";
import type { BlobStore } from "../repository/blob-store.ts";

/**
 * How a Task that waits for a task token (`.waitForTaskToken`) is answered: SendTaskSuccess
 * with an output, or SendTaskFailure with an error name and cause. In AWS the answer goes to
 * Step Functions; the local runner waits for answers written to a store (the one the token was
 * recorded in), so `kubeferry approve` answers a local run through the same call.
 */
export type TaskAnswer =
  | { outcome: "success"; output: Record<string, unknown> }
  | { outcome: "failure"; error: string; cause: string };

const taskAnswerSchema = z.discriminatedUnion("outcome", [
  z.object({ outcome: z.literal("success"), output: z.record(z.string(), z.unknown()) }),
  z.object({ outcome: z.literal("failure"), error: z.string(), cause: z.string() }),
]);

export interface TaskAnswerSender {
  send(token: string, answer: TaskAnswer): Promise<void>;
}

/** Tokens the local runner hands out start with this; Step Functions' tokens never do. */
const localTokenPrefix = "kubeferry-local-token:";

export function newLocalTaskToken(): string {
  return `${localTokenPrefix}${randomUUID()}`;
}

export function isLocalTaskToken(token: string): boolean {
  return token.startsWith(localTokenPrefix);
}

export function stepFunctionsAnswers(client: SFNClient): TaskAnswerSender {
  return {
    async send(taskToken, answer) {
      if (answer.outcome === "success") {
        await client.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(answer.output) }));
      } else {
        await client.send(
          new SendTaskFailureCommand({ taskToken, error: answer.error, cause: answer.cause }),
        );
      }
    },
  };
}

/** A token is long and secret-ish: its answer is filed under its digest. */
const answerKey = (token: string) =>
  `task-answers/${createHash("sha256").update(token).digest("hex").slice(0, 32)}.json`;

/** Answers written to and read from a store: what a local run's waiting Task polls. */
export class StoreTaskAnswers implements TaskAnswerSender {
  constructor(
    private readonly store: BlobStore,
    private readonly pollMs = 500,
  ) {}

  async send(token: string, answer: TaskAnswer): Promise<void> {
    await this.store.put(answerKey(token), Buffer.from(JSON.stringify(taskAnswerSchema.parse(answer))));
  }

  /** Resolves with the token's answer once there is one; the answer is consumed. */
  async wait(token: string, signal: AbortSignal): Promise<TaskAnswer> {
    const key = answerKey(token);
    for (;;) {
      signal.throwIfAborted();
      const data = await this.store.get(key);
      if (data !== undefined) {
        await this.store.delete(key);
        return taskAnswerSchema.parse(JSON.parse(data.toString("utf8")));
      }
      await sleep(this.pollMs, undefined, { signal });
    }
  }
}
