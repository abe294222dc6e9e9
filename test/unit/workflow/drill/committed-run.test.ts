import { describe, expect, it } from "vitest";
import { NoCommittedRun } from "../../../../functions/lib/errors.ts";
import type { RunRecord } from "../../../../functions/lib/repository/manifests.ts";
import { latestCommittedRun } from "../../../../functions/lib/workflow/drill/committed-run.ts";
import { openTestRepository } from "../../repository/fixtures.ts";

const record = (
  runId: string,
  minute: number,
  namespaces: string[],
  fields: Partial<RunRecord> = {},
): RunRecord => ({
  version: 1,
  runId,
  pair: "onprem-to-west",
  status: "Succeeded",
  startedAt: new Date(Date.UTC(2026, 11, 3, 4, minute)).toISOString(),
  namespaces,
  volumes: [],
  resources: { objects: 3 },
  ...fields,
});

async function repositoryWith(records: RunRecord[]) {
  const { repository } = await openTestRepository();
  for (const r of records) await repository.manifests.writeRunRecord(r);
  return repository.manifests;
}

describe("the run a drill restores", () => {
  it("is the newest committed run covering every namespace asked for", async () => {
    const manifests = await repositoryWith([
      record("both-1", 1, ["shop", "crm"]),
      record("partial-2", 2, ["shop"], { status: "PartialSuccess" }),
      record("crm-3", 3, ["crm"]),
    ]);
    expect((await latestCommittedRun(manifests, "onprem-to-west", ["shop"])).runId).toBe("partial-2");
    expect((await latestCommittedRun(manifests, "onprem-to-west", ["crm"])).runId).toBe("crm-3");
    expect((await latestCommittedRun(manifests, "onprem-to-west", ["shop", "crm"])).runId).toBe("both-1");
  });

  it("is never a failed, running or dry run, nor a drill, nor another pair's", async () => {
    const manifests = await repositoryWith([
      record("ok-1", 1, ["shop"]),
      record("failed-2", 2, ["shop"], { status: "Failed" }),
      record("running-3", 3, ["shop"], { status: "Running" }),
      // ApplyResources writes a dry run's record, without CommitRun's resources.
      record("dry-4", 4, ["shop"], { resources: undefined }),
      record("drill-5", 5, ["shop"], { drillOf: "ok-1" }),
      // A reversed pair shares the repository; its runs go the other way.
      record("back-6", 6, ["shop"], { pair: "onprem-to-west-reverse" }),
    ]);
    expect((await latestCommittedRun(manifests, "onprem-to-west", ["shop"])).runId).toBe("ok-1");
  });

  it("missing, is a NoCommittedRun naming the namespace and saying to run a migration first", async () => {
    const manifests = await repositoryWith([
      record("shop-1", 1, ["shop"]),
      record("crm-2", 2, ["crm"]),
      record("billing-3", 3, ["billing"], { status: "Failed" }),
    ]);
    const billing = latestCommittedRun(manifests, "onprem-to-west", ["shop", "billing"]);
    await expect(billing).rejects.toThrow(NoCommittedRun);
    await expect(billing).rejects.toThrow(
      /^namespace billing: pair onprem-to-west has no committed run .*run a migration first/,
    );
    await expect(latestCommittedRun(manifests, "onprem-to-west", ["shop", "crm"])).rejects.toThrow(
      /no single committed run of pair onprem-to-west covers them all/,
    );
  });
});
