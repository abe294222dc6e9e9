import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { demoApp } from "../../cli/demo-app.ts";
import { applyResources } from "../../functions/lib/kube/apply/apply-resources.ts";
import { createClusterClient } from "../../functions/lib/kube/client/cluster-client.ts";
import { NO_TRANSFORMS } from "../../functions/lib/kube/transform/transform-object.ts";
import { type LocalClusters, startClusters } from "../env/clusters.ts";
import { run } from "./run-cli.ts";

vi.setConfig({ testTimeout: 600_000 });

/** The README's CLI walkthrough: the fenced block after "Every line below is run by". */
function readmeCommands(): string[] {
  const readme = readFileSync(join(import.meta.dirname, "..", "..", "README.md"), "utf8");
  const after = readme.slice(readme.indexOf("Every line below is run by"));
  const block = /```sh\n([\s\S]*?)```/.exec(after)?.[1] ?? "";
  return block.split("\n").filter((line) => line.startsWith("kubeferry "));
}

/** Splits a command line as sh would for these lines: words, single and double quotes, $VARS. */
function words(line: string, variables: Record<string, string>): string[] {
  const found = line.match(/'[^']*'|"[^"]*"|\S+/g) ?? [];
  return found.map((word) => {
    if (word.startsWith("'")) return word.slice(1, -1);
    const text = word.startsWith('"') ? word.slice(1, -1) : word;
    return text.replace(/\$([A-Z_]+)/g, (_, name: string) => {
      const value = variables[name];
      if (value === undefined) throw new Error(`README uses $${name}, which this test does not set`);
      return value;
    });
  });
}

let env: LocalClusters;
const variables: Record<string, string> = {};
let previousHome: string | undefined;

beforeAll(async () => {
  env = await startClusters(["source", "destination"]);
  previousHome = process.env.KUBEFERRY_HOME;
  process.env.KUBEFERRY_HOME = mkdtempSync(join(tmpdir(), "kubeferry-readme-"));
  variables.SOURCE_KUBECONFIG = env.get("source").kubeconfigPath;
  variables.DEST_KUBECONFIG = env.get("destination").kubeconfigPath;
  const source = await createClusterClient(env.get("source").kubeConfig(), { name: "source" });
  await applyResources(source, demoApp("sim-fast", "shop"), {
    existingResources: "update",
    dryRun: false,
    failFast: true,
    transforms: NO_TRANSFORMS,
  });
  source.close();
});

afterAll(async () => {
  if (process.env.KUBEFERRY_HOME) rmSync(process.env.KUBEFERRY_HOME, { recursive: true, force: true });
  if (previousHome === undefined) delete process.env.KUBEFERRY_HOME;
  else process.env.KUBEFERRY_HOME = previousHome;
  await env?.stop();
});

it("runs every command of the README's CLI walkthrough against the local clusters", async () => {
  const commands = readmeCommands();
  expect(commands.length).toBeGreaterThanOrEqual(10);
  for (const line of commands) {
    const args = [...words(line, variables).slice(1), "-o", "json"];
    const { code, stdout, stderr } = await run(args);
    expect(code, `${line}\n${stderr}`).toBe(0);
    const output = JSON.parse(stdout);
    if (args[0] === "migrate") {
      expect(output.status).toBe("Successful");
      expect(output.volumes.every((volume: { verified: boolean }) => volume.verified)).toBe(true);
      variables.RUN_ID = output.runId;
    }
    if (args[0] === "verify") expect(output.ok).toBe(true);
  }
});
