import { z } from "zod";
import { loadPair } from "../pair-access.ts";
import { activationRequestSchema, parseRequest } from "../request.ts";
import { type ActivationRun, runIdFromExecution } from "../run.ts";
import { defineStep } from "../step.ts";

export const validateActivation = defineStep({
  task: "ValidateActivation",
  input: z.object({ request: z.unknown(), execution: z.string().min(1), startedAt: z.string().min(1) }),
  async run(input, deps): Promise<ActivationRun> {
    const request = parseRequest(activationRequestSchema, input.request, "activation request");
    await loadPair(deps, request.pair);
    return {
      id: runIdFromExecution(input.execution),
      execution: input.execution,
      startedAt: input.startedAt,
      request,
    };
  },
});
