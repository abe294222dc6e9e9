import { beforeAll, describe, expect, it } from "vitest";
import { ensureCsiDriverBinary, ensureCsiSanityBinary } from "../../env/csi-driver-binary.ts";
import { runCsiSanity, sanityConfigurations } from "../../env/csi-sanity.ts";

describe("csi-sanity against the test CSI driver", () => {
  beforeAll(async () => {
    await ensureCsiDriverBinary();
    await ensureCsiSanityBinary();
  });

  for (const configuration of sanityConfigurations) {
    it(`passes in ${configuration.name}`, { timeout: 300_000 }, async () => {
      const result = await runCsiSanity(configuration);
      console.error(`[csi-sanity.test] ${configuration.name}: ${result.summary}`);
      expect(result.passed, result.output).toBe(true);
      expect(result.summary).toMatch(/ 0 Failed /);
    });
  }
});
