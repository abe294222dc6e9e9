import { z } from "zod";
import { ValidationError } from "../../errors.ts";
import type { PairRecord } from "../../kube/pairing/pairs.ts";
import { parseResourceModifiers } from "../../kube/transform/resource-modifiers.ts";
import { destinationNamespace, loadPair } from "../pair-access.ts";
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
export function validationStep<Schema extends z.ZodType<{ pair: string }>>(
  task: TaskName,
  schema: Schema,
  what: string,
  check: (request: z.output<Schema>, pair: PairRecord) => void = () => {},
) {
  return defineStep({
    task,
    input: executionInput,
    async run(input, deps) {
      const request = parseRequest(schema, input.request, what);
      check(request, await loadPair(deps, request.pair));
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
  checkSelection,
);

/** What a migration's (and a cutover's) selection must satisfy beyond its schema. */
export function checkSelection(
  request: { resourceModifiers: unknown; namespaces: readonly string[] },
  pair: PairRecord,
): void {
  parseResourceModifiers(request.resourceModifiers);
  checkDistinctDestinations(request.namespaces, pair);
}

/**
 * The pair refuses mappings of two namespaces to one, but an unmapped namespace keeps its name, so
 * a request for `a` (mapped to `b`) and `b` would still send both to `b`.
 */
function checkDistinctDestinations(namespaces: readonly string[], pair: PairRecord): void {
  const sources = new Map<string, string>();
  for (const namespace of namespaces) {
    const destination = destinationNamespace(pair, namespace);
    const other = sources.get(destination);
    if (other !== undefined && other !== namespace) {
      throw new ValidationError(
        `namespaces: ${other} and ${namespace} both go to destination namespace ${destination} under pair ` +
          `${pair.name}; migrate them in separate pairs or map one of them elsewhere`,
      );
    }
    sources.set(destination, namespace);
  }
}
export const validateActivation = validationStep(
  "ValidateActivation",
  activationRequestSchema,
  "activation request",
);
