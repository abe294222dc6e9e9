import { z } from "zod";
import { checkPair } from "../../kube/pairing/pairs.ts";
import { connectPair, withClients } from "../pair-access.ts";
import { migrationRunSchema } from "../run.ts";
import { defineStep } from "../step.ts";

/** Runs the pair's checks again before anything moves (clusters change between runs), for the run's namespaces. */
export const pairClusters = defineStep({
  task: "PairClusters",
  input: z.object({ run: migrationRunSchema }),
  async run({ run }, deps) {
    const { pair, source, destination } = await connectPair(deps, run.request.pair);
    const record = await withClients([source, destination], () =>
      checkPair(deps.pairs, pair.name, { source, destination }, deps.now(), {
        namespaces: run.request.namespaces,
      }),
    );
    return { source: record.source, destination: record.destination, checks: record.checks.length };
  },
});
