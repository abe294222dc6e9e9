import { cutoverRequestSchema, cutoverSyncRequest } from "../request.ts";
import { defineStep } from "../step.ts";
import { checkSelection, validationStep } from "./validate-request.ts";

const validated = validationStep("ValidateCutover", cutoverRequestSchema, "cutover request", checkSelection);

/**
 * The cutover's first state: refuses a bad request before anything is touched, and builds the
 * standby migration its two syncs start (`$.run.sync`), checked as ValidateRequest would.
 */
export const validateCutover = defineStep({
  task: "ValidateCutover",
  input: validated.input,
  async run(input, deps) {
    const run = await validated.run(input, deps);
    return { ...run, sync: cutoverSyncRequest(run.request) };
  },
});
