import { describe, expect, it } from "vitest";
import type { PairRecord } from "../../../functions/lib/kube/pairing/pairs.ts";
import { acquireLock } from "../../../functions/lib/repository/locks.ts";
import { localStepDeps } from "../../../functions/lib/workflow/local-step-deps.ts";
import { collectEveryPairGarbage } from "../../../functions/lib/workflow/pair-garbage.ts";
import { tempDirectory } from "../repository/fixtures.ts";

const silent = { info: () => {}, warn: () => {} };

function pair(name: string, keepRuns?: number): PairRecord {
  return {
    version: 1,
    name,
    source: "a",
    destination: "b",
    storageClassMapping: {},
    namespaceMapping: {},
    ...(keepRuns ? { keepRuns } : {}),
    checks: [],
    createdAt: "2026-11-26T05:00:00.000Z",
    checkedAt: "2026-11-26T05:00:00.000Z",
  };
}

async function homeWithRuns() {
  const deps = localStepDeps(await tempDirectory(), silent);
  for (const record of [pair("default-keep"), pair("keeps-one", 1), pair("busy")]) {
    await deps.pairs.put(record);
    const repository = await deps.openRepository(record.name);
    for (const minute of [1, 2, 3]) {
      await repository.manifests.writeRunRecord({
        version: 1,
        runId: `run-${minute}`,
        pair: record.name,
        status: "Succeeded",
        startedAt: new Date(Date.UTC(2026, 10, 26, 5, minute)).toISOString(),
        namespaces: ["shop"],
        volumes: [],
      });
    }
  }
  return deps;
}

describe("garbage collection of every pair", () => {
  it("keeps each pair's own number of runs, else the default, and skips a pair whose runs are in progress", async () => {
    const deps = await homeWithRuns();
    await acquireLock((await deps.openRepository("busy")).store, "namespace-shop", {
      owner: "kf-running",
      ttlMs: 60_000,
    });
    const reports = await collectEveryPairGarbage(deps, { keepRuns: 2, owner: "test-gc" });
    const byPair = Object.fromEntries(reports.map((report) => [report.pair, report]));
    expect(byPair["default-keep"]).toMatchObject({ retention: { keepRuns: 2, droppedRuns: ["run-1"] } });
    expect(byPair["keeps-one"]).toMatchObject({ retention: { keepRuns: 1 } });
    expect((await (await deps.openRepository("keeps-one")).manifests.listRunIds()).sort()).toEqual(["run-3"]);
    expect(byPair.busy).toEqual({ pair: "busy", skipped: "runs in progress hold namespace-shop" });
    expect(await (await deps.openRepository("busy")).manifests.listRunIds()).toHaveLength(3);
  });

  it("collects only the pair named", async () => {
    const deps = await homeWithRuns();
    const reports = await collectEveryPairGarbage(deps, { keepRuns: 1, owner: "test-gc", only: "keeps-one" });
    expect(reports.map((report) => report.pair)).toEqual(["keeps-one"]);
  });
});
