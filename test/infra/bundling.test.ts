import { readFileSync, statSync } from "node:fs";
import { expect, it } from "vitest";
import { synthesizedAssembly } from "../../cli/cloud-assembly-cache.ts";
import { readCloudAssembly } from "../../functions/lib/workflow/local-runner/cloud-assembly.ts";
import { taskNames } from "../../functions/lib/workflow/task-catalog.ts";

// The template tests synthesize without bundling; this checks the bundles `cdk synth` builds for
// `cdk deploy` (ESM, node24, minified, everything bundled), which local runs invoke too.
it("bundles every handler for Lambda", { timeout: 600_000 }, async () => {
  const assembly = await synthesizedAssembly();
  const { functions } = readCloudAssembly(assembly.dir, assembly.stackName);
  for (const task of taskNames) {
    const bundle = functions[task].bundle;
    expect(statSync(bundle).size, task).toBeGreaterThan(1000);
    expect(readFileSync(bundle, "utf8").startsWith("import { createRequire }"), task).toBe(true);
  }
});
