import { z } from "zod";
import { parseResourceModifiers } from "../../kube/transform/resource-modifiers.ts";
import { loadPair } from "../pair-access.ts";
import { migrationRequestSchema, parseRequest } from "../request.ts";
import { type MigrationRun, runIdFromExecution } from "../run.ts";
import { defineStep } from "../step.ts";

/**
 * Refuses a bad request before anything is touched: unknown or mistyped fields, bad selectors
 * and modifiers, an unknown pair. It only reads the pair record.
 */
export const validateRequest = defineStep({
  task: "ValidateRequest",
  input: z.object({ request: z.unknown(), execution: z.string().min(1), startedAt: z.string().min(1) }),
  async run(input, deps): Promise<MigrationRun> {
    const request = parseRequest(migrationRequestSchema, input.request, "migration request");
    parseResourceModifiers(request.resourceModifiers);
    await loadPair(deps, request.pair);
    return {
      id: runIdFromExecution(input.execution),
      execution: input.execution,
      startedAt: input.startedAt,
      request,
    };
  },
});
