import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Template } from "aws-cdk-lib/assertions";
import { kubeferryApp } from "../../infra/kubeferry-app.ts";

/**
 * Synthesizes the app as `cdk synth` does (cdk-nag included, so a finding throws), without
 * bundling the functions: bundling is tested on its own, and skipping it keeps these fast.
 */
export function synthesize(config?: unknown) {
  const outdir = mkdtempSync(join(tmpdir(), "kubeferry-cdk-"));
  const context: Record<string, unknown> = { "aws:cdk:bundling-stacks": [] };
  if (config !== undefined) {
    const configFile = join(outdir, "kubeferry.config.json");
    writeFileSync(configFile, JSON.stringify(config));
    context["kubeferry:config"] = configFile;
  }
  try {
    // Inside the try: a refused configuration throws here, and its folder goes too.
    const { app, stack } = kubeferryApp({ outdir, context });
    app.synth();
    return { template: Template.fromStack(stack), stack };
  } finally {
    // The template is read; nothing may stay behind in the system's temp directory.
    rmSync(outdir, { recursive: true, force: true });
  }
}
