import { mapBounded } from "../../functions/lib/bounded-map.ts";
import { type Command, requiredOption, stringOption, UsageError } from "../command.ts";
import { table } from "../output.ts";
import { functionNameOption, invokeFunction, runForInvocation } from "../remote-functions.ts";

/**
 * Re-reads what a run staged, like `restic check --read-data`: every manifest decrypts and
 * validates, and every chunk (or a random sample) authenticates and hashes to its id.
 */
export const verify: Command = {
  path: ["verify"],
  summary:
    "re-check a run's staged manifests and chunks (all, or a random --sample fraction); --remote: the deployed Verify function checks the run's objects on the destination",
  usage: "--run RUN --pair PAIR [--sample 0.1] [--remote [--function NAME]]",
  options: {
    run: { type: "string" },
    pair: { type: "string" },
    sample: { type: "string" },
    remote: { type: "boolean" },
    function: { type: "string" },
  },
  examples: [
    "kubeferry verify --run kf-20261126-101500-a1b2c3 --pair onprem-to-west",
    "kubeferry verify --run kf-20261126-101500-a1b2c3 --pair onprem-to-west --sample 0.05 -o json",
    "kubeferry verify --run kf-20261126-101500-a1b2c3 --pair onprem-to-west --remote --function kubeferry-Verify",
  ],
  async run(invocation, context) {
    const runId = requiredOption(invocation, "run");
    const pair = requiredOption(invocation, "pair");
    const sample = Number(stringOption(invocation, "sample") ?? "1");
    if (!(sample > 0 && sample <= 1)) throw new UsageError("--sample must be a fraction in (0, 1]");
    const repository = await context.deps.openRepository(pair);
    const record = await repository.manifests.readRunRecord(runId);
    if (invocation.values.remote === true) {
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
    const problems: string[] = [];
    await repository.manifests
      .readResourceBundle(runId)
      .catch((error: Error) => problems.push(error.message));
    const rows = [];
    for await (const manifest of repository.manifests.volumeManifests(runId)) {
      const ids = [...new Set(manifest.image.chunks.filter((id): id is string => id !== null))];
      const picked = sample < 1 ? ids.filter(() => Math.random() < sample) : ids;
      let bad = 0;
      await mapBounded(picked, 8, async (id) => {
        try {
          await repository.content.getChunk(id);
        } catch (error) {
          bad++;
          problems.push(`${manifest.namespace}/${manifest.name}: ${(error as Error).message}`);
        }
      });
      rows.push({
        volume: `${manifest.namespace}/${manifest.name}`,
        chunks: ids.length,
        checked: picked.length,
        bad,
      });
    }
    const ok = problems.length === 0;
    context.output.result(
      { runId, pair, ok, volumes: rows, problems },
      [
        table(
          ["VOLUME", "CHUNKS", "CHECKED", "BAD"],
          rows.map((r) => [r.volume, r.chunks, r.checked, r.bad]),
        ),
        "",
        ok ? `run ${runId}: every manifest and checked chunk is intact` : problems.join("\n"),
      ].join("\n"),
    );
    return ok ? 0 : 1;
  },
};
