import { parseArgs } from "node:util";
import { runSeed } from "./gc-model/model.ts";

/**
 * `npm run -s test:gc-model -- --seeds 200 --json`: the garbage-collection model over many
 * seeds; exits non-zero when any seed lost a chunk a manifest or range part names.
 */
const { values } = parseArgs({
  options: {
    seeds: { type: "string", default: "200" },
    "first-seed": { type: "string", default: "1" },
    json: { type: "boolean", default: false },
  },
});
const seeds = Number(values.seeds);
const firstSeed = Number(values["first-seed"]);
let operations = 0;
let lostChunks = 0;
let corruptManifests = 0;
for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
  const result = await runSeed(seed);
  operations += result.operations;
  lostChunks += result.lostChunks;
  corruptManifests += result.corruptManifests;
  if (!values.json && result.lostChunks > 0) {
    console.log(
      `seed ${seed}: ${result.lostChunks} lost chunks, ${result.corruptManifests} corrupt manifests`,
    );
  }
}
if (values.json) {
  console.log(
    `{"seeds": ${seeds}, "operations": ${operations}, "lost_chunks": ${lostChunks}, "corrupt_manifests": ${corruptManifests}}`,
  );
} else {
  console.log(
    `${seeds} seeds, ${operations} operations: ${lostChunks} lost chunks, ${corruptManifests} corrupt manifests`,
  );
}
process.exitCode = lostChunks > 0 || corruptManifests > 0 ? 1 : 0;
