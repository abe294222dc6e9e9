import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { synthesizedAssembly } from "../../cli/cloud-assembly-cache.ts";
import { eventSource, migrationRequestedDetailType } from "../../functions/lib/workflow/events.ts";
import { startTriggeredRun } from "../../functions/lib/workflow/triggered-run.ts";
import { LocalStandardExecutions } from "../env/local-executions.ts";

interface InputTransformer {
  InputPathsMap: Record<string, string>;
  InputTemplate: string;
}

let transformer: InputTransformer;
let home: string;

beforeAll(async () => {
  const assembly = await synthesizedAssembly();
  const template = JSON.parse(
    await readFile(join(assembly.dir, `${assembly.stackName}.template.json`), "utf8"),
  );
  const rule = Object.values<any>(template.Resources).find(
    (r) =>
      r.Type === "AWS::Events::Rule" &&
      r.Properties.EventPattern["detail-type"]?.[0] === migrationRequestedDetailType,
  );
  transformer = rule.Properties.Targets[0].InputTransformer;
  home = await mkdtemp(join(tmpdir(), "kubeferry-trigger-"));
}, 600_000);

afterAll(() => rm(home, { recursive: true, force: true }));

/**
 * What EventBridge delivers to the target: each placeholder of the template replaced by the JSON
 * value at its path (a placeholder outside quotes takes the value with its quotes).
 */
function transform(event: Record<string, unknown>): unknown {
  const text = transformer.InputTemplate.replace(/<(\w+)>/g, (_whole, name: string) => {
    const path = transformer.InputPathsMap[name];
    if (path === undefined) throw new Error(`no input path for <${name}>`);
    let value: unknown = event;
    for (const key of path.replace(/^\$\./, "").split(".")) value = (value as Record<string, unknown>)[key];
    return JSON.stringify(value);
  });
  return JSON.parse(text);
}

it("the same EventBridge event delivered twice starts one run", { timeout: 300_000 }, async () => {
  const executions = new LocalStandardExecutions("migrate", {
    environment: {
      KUBEFERRY_LOCAL_HOME: home,
      KUBEFERRY_BUCKET: null,
      KUBEFERRY_KMS_KEY_ARN: null,
      KUBEFERRY_REPOSITORY_KEY_ROLE_ARN: null,
      KUBEFERRY_EVENT_BUS: null,
    },
    location: { kind: "filesystem", root: home },
  });
  const event = {
    version: "0",
    id: randomUUID(),
    "detail-type": migrationRequestedDetailType,
    source: eventSource,
    account: "000000000000",
    time: new Date().toISOString(),
    region: "local",
    resources: [],
    // No such pair: the run fails in ValidateRequest and publishes its Failed event.
    detail: { pair: "no-such-pair", namespaces: ["shop"] },
  };
  // At-least-once delivery: twice at once, and once more after the run ended.
  const [first, second] = await Promise.all([
    startTriggeredRun(transform(event), executions),
    startTriggeredRun(transform(event), executions),
  ]);
  const outcomes = await executions.settled();
  const third = await startTriggeredRun(transform(event), executions);

  const name = `kf-ev-${event.id}`;
  expect(first).toMatchObject({ executionName: name, started: true });
  // A duplicate while the run goes on gets the same execution back, as StartExecution answers it.
  expect(second).toEqual(first);
  expect(third).toMatchObject({ executionName: name, started: false });
  expect(executions.names()).toEqual([name]);
  expect(outcomes).toHaveLength(1);
  const published = (await readFile(join(home, "events.jsonl"), "utf8"))
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line));
  // One run published its end (refused before it had a run id: the request names no pair).
  expect(published.map((entry) => [entry.detailType, entry.detail.pair])).toEqual([
    ["Migration Failed", "no-such-pair"],
  ]);
});
