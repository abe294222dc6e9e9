import { mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { expect, it } from "vitest";
import { handlerFileName, taskNames } from "../../functions/lib/workflow/task-catalog.ts";

const root = join(import.meta.dirname, "..", "..");

// The template tests synthesize without bundling; this bundles every handler as the
// NodejsFunction constructs do for `cdk deploy` (ESM, node24, everything bundled).
it("bundles every handler for Lambda", { timeout: 300_000 }, async () => {
  const outdir = mkdtempSync(join(tmpdir(), "kubeferry-bundle-"));
  const result = await build({
    entryPoints: taskNames.map((task) => join(root, "functions", "handlers", `${handlerFileName(task)}.ts`)),
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node24",
    outdir,
    logLevel: "silent",
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
  });
  expect(result.errors).toEqual([]);
  for (const task of taskNames) {
    expect(statSync(join(outdir, `${handlerFileName(task)}.js`)).size).toBeGreaterThan(1000);
  }
});
