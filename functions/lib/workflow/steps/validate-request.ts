import { z } from "zod";
import { parseResourceModifiers } from "../../kube/transform/resource-modifiers.ts";
import { loadPair } from "../pair-access.ts";
import { activationRequestSchema, migrationRequestSchema, parseRequest } from "../request.ts";
import { runIdFromExecution } from "../run.ts";
import { defineStep } from "../step.ts";
import type { TaskName } from "../task-catalog.ts";

const executionInput = z.object({
  request: z.unknown(),
  execution: z.string().min(1),
  startedAt: z.string().min(1),
});

/**
 * The first state of a workflow: refuses a bad request before anything is touched (unknown or
 * mistyped fields, bad selectors and modifiers, an unknown pair; it only reads the pair record)
 * and gives the run its identity.
 */
function validationStep<Schema extends z.ZodType<{ pair: string }>>(
  task: TaskName,
  schema: Schema,
  what: string,
  check: (request: z.output<Schema>) => void = () => {},
) {
  return defineStep({
    task,
    input: executionInput,
    async run(input, deps) {
      const request = parseRequest(schema, input.request, what);
      check(request);
      await loadPair(deps, request.pair);
      return {
        id: runIdFromExecution(input.execution),
        execution: input.execution,
        startedAt: input.startedAt,
        request,
      };
    },
  });
}

export const validateRequest = validationStep(
  "ValidateRequest",
  migrationRequestSchema,
  "migration request",
  (request) => parseResourceModifiers(request.resourceModifiers),
);
export const validateActivation = validationStep(
  "ValidateActivation",
  activationRequestSchema,
  "activation request",
);
