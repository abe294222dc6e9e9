import { defaultKeepRuns } from "../../functions/lib/repository/retention.ts";
import { collectEveryPairGarbage } from "../../functions/lib/workflow/pair-garbage.ts";
import { type Command, countOption, stringOption } from "../command.ts";
import { formatBytes } from "../format.ts";
import { table } from "../output.ts";

export const gc: Command = {
  path: ["gc"],
  summary:
    "drop runs past retention (per namespace the pair's keepRuns, else --keep-runs, default 10, stay) mark staged chunks no run references any more and delete those marked over 8 days ago (--dry-run reports them)",
  usage: "[--pair PAIR] [--keep-runs N] [--dry-run]",
  options: { pair: { type: "string" }, "keep-runs": { type: "string" }, "dry-run": { type: "boolean" } },
  examples: ["kubeferry gc --dry-run", "kubeferry gc --pair onprem-to-west --keep-runs 5 -o json"],
  async run(invocation, context) {
    const only = stringOption(invocation, "pair");
    const keepRuns = countOption(invocation, "keep-runs") ?? defaultKeepRuns;
    const dryRun = invocation.values["dry-run"] === true;
    const reports = await collectEveryPairGarbage(context.deps, {
      keepRuns,
      owner: `kubeferry-gc-${process.pid}`,
      dryRun,
      ...(only ? { only } : {}),
    });
    context.output.result(
      reports,
      table(
        [
          "PAIR",
          dryRun ? "WOULD DROP RUNS" : "DROPPED RUNS",
          dryRun ? "WOULD DELETE" : "DELETED",
          "BYTES",
          "NOTE",
        ],
        reports.map((r) =>
          "skipped" in r
            ? [r.pair, 0, 0, "0 B", `skipped: ${r.skipped}`]
            : [
                r.pair,
                r.retention.droppedRuns.length,
                r.deletedChunks.length,
                formatBytes(r.deletedBytes),
                `${r.referencedChunks} chunks in use, ${r.retention.keptRuns} runs kept`,
              ],
        ),
      ),
    );
    return 0;
  },
};
