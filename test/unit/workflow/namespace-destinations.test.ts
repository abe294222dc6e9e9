import { describe, expect, it } from "vitest";
import { ValidationError } from "../../../functions/lib/errors.ts";
import { pairRecordSchema, pairSpecSchema } from "../../../functions/lib/kube/pairing/pairs.ts";
import { runStep } from "../../../functions/lib/workflow/step.ts";
import type { StepDeps } from "../../../functions/lib/workflow/step-deps.ts";
import { validateRequest } from "../../../functions/lib/workflow/steps/validate-request.ts";

const spec = { name: "dr", source: "onprem", destination: "west" };

describe("two source namespaces and one destination namespace", () => {
  it("are refused when a pair maps them to the same one", () => {
    const parsed = pairSpecSchema.safeParse({ ...spec, namespaceMapping: { a: "x", b: "x" } });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toBe(
      "a and b both map to x; give each source namespace its own destination namespace",
    );
    expect(parsed.error?.issues[0]?.path).toEqual(["namespaceMapping"]);
  });

  it("are refused when a run asks for a mapped namespace and the one it is mapped onto", async () => {
    const pair = pairRecordSchema.parse({
      ...spec,
      namespaceMapping: { a: "b" },
      version: 1,
      checks: [],
      createdAt: "2026-12-01T00:00:00Z",
      checkedAt: "2026-12-01T00:00:00Z",
    });
    const deps = { pairs: { get: async () => pair } } as unknown as StepDeps;
    const run = (namespaces: string[]) =>
      runStep(
        validateRequest,
        {
          request: { pair: "dr", namespaces },
          execution: "arn:aws:states:eu-west-1:1:execution:kubeferry-migrate:kf-20261201-000000-abcdef",
          startedAt: "2026-12-01T00:00:00Z",
        },
        deps,
      );
    await expect(run(["a", "b"])).rejects.toBeInstanceOf(ValidationError);
    await expect(run(["a", "b"])).rejects.toThrow(
      "namespaces: a and b both go to destination namespace b under pair dr",
    );
    await expect(run(["a", "c"])).resolves.toMatchObject({ request: { namespaces: ["a", "c"] } });
  });
});
