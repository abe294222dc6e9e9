import type { RunRecord } from "../../functions/lib/repository/manifests.ts";
import { type Command, stringOption, UsageError } from "../command.ts";
import type { CliContext } from "../context.ts";
import { table } from "../output.ts";

interface RunSummary extends RunRecord {
  pair: string;
}

async function runRecords(context: CliContext, pairFilter?: string): Promise<RunSummary[]> {
  const pairs = (await context.deps.pairs.list()).filter((pair) => !pairFilter || pair.name === pairFilter);
  const records: RunSummary[] = [];
  for (const pair of pairs) {
    const repository = await context.deps.openRepository(pair.name);
    for (const runId of await repository.manifests.listRunIds()) {
      // A run that failed before CommitRun left parts but no record: nothing to show.
      const record = await repository.manifests.readRunRecord(runId).catch(() => undefined);
      if (record) records.push({ ...record, pair: pair.name });
    }
  }
  return records.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
}

export const status: Command = {
  path: ["status"],
  summary: "show recent runs, or one run's volumes and objects",
  usage: "[RUN] [--pair PAIR]",
  options: { pair: { type: "string" } },
  examples: ["kubeferry status", "kubeferry status kf-20261126-101500-a1b2c3 -o json"],
  async run(invocation, context) {
    const runId = invocation.positionals[0];
    const records = await runRecords(context, stringOption(invocation, "pair"));
    if (runId === undefined) {
      context.output.result(
        records.map(({ objects: _objects, ...summary }) => summary),
        records.length === 0
          ? "no runs yet"
          : table(
              ["RUN", "PAIR", "STATUS", "STARTED", "VOLUMES", "OBJECTS"],
              records.map((r) => [
                r.runId,
                r.pair,
                r.status,
                r.startedAt,
                r.volumes.length,
                r.objects?.length ?? 0,
              ]),
            ),
      );
      return 0;
    }
    const record = records.find((r) => r.runId === runId);
    if (!record) throw new UsageError(`run "${runId}" not found (kubeferry status lists the runs)`);
    const failed = (record.objects ?? []).filter((object) => object.status === "Failed");
    context.output.result(
      record,
      [
        `run ${record.runId} on pair ${record.pair}: ${record.status} (started ${record.startedAt})`,
        "",
        table(
          ["VOLUME", "CHUNKS", "HOLES", "NEW CHUNKS", "NEW BYTES"],
          record.volumes.map((v) => [
            `${v.namespace}/${v.name}`,
            v.stats.chunks,
            v.stats.holes,
            v.stats.newChunks,
            v.stats.newBytes,
          ]),
        ),
        ...(failed.length > 0
          ? [
              "",
              table(
                ["FAILED OBJECT", "REASON"],
                failed.map((o) => [`${o.kind} ${o.namespace ?? ""}/${o.name}`, o.reason ?? ""]),
              ),
            ]
          : []),
      ].join("\n"),
    );
    return 0;
  },
};
