// `npm run test:csi-sanity`: csi-sanity against the test CSI driver in every configuration;
// exits non-zero when any configuration fails.
import { runCsiSanity, sanityConfigurations } from "./csi-sanity.ts";

let failed = false;
for (const configuration of sanityConfigurations) {
  const result = await runCsiSanity(configuration);
  if (!result.passed) {
    failed = true;
    console.error(result.output);
  }
  console.error(`[csi-sanity] ${result.name}: ${result.summary}`);
}
process.exitCode = failed ? 1 : 0;
