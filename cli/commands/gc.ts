import { collectGarbage } from "../../functions/lib/repository/garbage-collection.ts";
import { heldRunLocks } from "../../functions/lib/workflow/run-locks.ts";
import { type Command, stringOption } from "../command.ts";
import { formatBytes } from "../format.ts";
import { table } from "../output.ts";

export const gc: Command = {
  path: ["gc"],
  summary: "delete staged chunks no run references any more (--dry-run reports them)",
  usage: "[--pair PAIR] [--dry-run]",
  options: { pair: { type: "string" }, "dry-run": { type: "boolean" } },
  examples: ["kubeferry gc --dry-run", "kubeferry gc --pair onprem-to-west -o json"],
  async run(invocation, context) {
    const only = stringOption(invocation, "pair");
    const dryRun = invocation.values["dry-run"] === true;
    const reports = [];
    for (const pair of await context.deps.pairs.list()) {
      if (only && pair.name !== only) continue;
      const repository = await context.deps.openRepository(pair.name);
      // A run still staging has chunks no manifest names yet: wait for it.
      const busy = await heldRunLocks(repository, () => new Date());
      if (busy.length > 0) {
        reports.push({ pair: pair.name, skipped: `runs in progress hold ${busy.join(", ")}` });
        continue;
      }
      const report = await collectGarbage(repository, { owner: `kubeferry-gc-${process.pid}`, dryRun });
      reports.push({ pair: pair.name, ...report });
    }
    context.output.result(
      reports,
      table(
        ["PAIR", dryRun ? "WOULD DELETE" : "DELETED", "BYTES", "NOTE"],
        reports.map((r) =>
          "skipped" in r
            ? [r.pair, 0, "0 B", `skipped: ${r.skipped}`]
            : [
                r.pair,
                r.deletedChunks.length,
                formatBytes(r.deletedBytes),
                `${r.referencedChunks} chunks in use`,
              ],
        ),
      ),
    );
    return 0;
  },
};
