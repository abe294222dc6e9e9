import { randomBytes } from "node:crypto";
import { verifyRun } from "../../functions/lib/repository/verify-run.ts";
import { type Command, requiredOption, stringOption, UsageError } from "../command.ts";
import { table } from "../output.ts";
import { functionNameOption, invokeFunction, runForInvocation } from "../remote-functions.ts";

/**
 * Re-reads what a run staged (functions/lib/repository/verify-run.ts). A sample is chosen by a
 * seed, printed with the result, so that `--seed` repeats exactly the same check.
 */
export const verify: Command = {
  path: ["verify"],
  summary:
    "re-check a run's staged manifests and chunks (all, or a seeded --sample fraction); --remote: the deployed Verify function checks the run's objects on the destination",
  usage: "--run RUN --pair PAIR [--sample 0.1 [--seed SEED]] [--remote [--function NAME]]",
  options: {
    run: { type: "string" },
    pair: { type: "string" },
    sample: { type: "string" },
    seed: { type: "string" },
    remote: { type: "boolean" },
    function: { type: "string" },
  },
  examples: [
    "kubeferry verify --run kf-20261126-101500-a1b2c3 --pair onprem-to-west",
    "kubeferry verify --run kf-20261126-101500-a1b2c3 --pair onprem-to-west --sample 0.05 --seed 7 -o json",
    "kubeferry verify --run kf-20261126-101500-a1b2c3 --pair onprem-to-west --remote --function kubeferry-Verify",
  ],
  async run(invocation, context) {
    const runId = requiredOption(invocation, "run");
    const pair = requiredOption(invocation, "pair");
    const sample = Number(stringOption(invocation, "sample") ?? "1");
    if (!(sample > 0 && sample <= 1)) throw new UsageError("--sample must be a fraction in (0, 1]");
    const seed = stringOption(invocation, "seed") ?? randomBytes(4).toString("hex");
    const repository = await context.deps.openRepository(pair);
    if (invocation.values.remote === true) {
      const record = await repository.manifests.readRunRecord(runId);
      const functionName = functionNameOption(
        invocation.values.function,
        "KUBEFERRY_VERIFY_FUNCTION",
        "VerifyFunctionName",
      );
      const run = runForInvocation(pair, {
        id: runId,
        namespaces: record.namespaces ?? [...new Set(record.volumes.map((volume) => volume.namespace))],
        startedAt: record.startedAt,
      });
      // A VerifyFailed names what is missing; it ends the command as a failed check.
      const verified = (await invokeFunction(functionName, { run })) as { objects: number; volumes: number };
      context.output.result(
        { runId, pair, ok: true, remote: functionName, ...verified },
        `run ${runId}: ${verified.objects} objects present on the destination (checked by ${functionName})`,
      );
      return 0;
    }
    const { volumes, problems } = await verifyRun(repository, runId, { sample, seed });
    const ok = problems.length === 0;
    const checked = volumes.reduce((sum, volume) => sum + volume.checked, 0);
    context.output.result(
      { runId, pair, ok, sample, seed, checked, volumes, problems },
      [
        table(
          ["VOLUME", "CHUNKS", "CHECKED", "BAD"],
          volumes.map((r) => [r.volume, r.chunks, r.checked, r.bad]),
        ),
        "",
        `checked ${checked} chunks (sample ${sample}, seed ${seed})`,
        ok ? `run ${runId}: every manifest and checked chunk is intact` : problems.join("\n"),
      ].join("\n"),
    );
    return ok ? 0 : 1;
  },
};
