import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { LinkOptions } from "../env/link-proxy.ts";
import {
  createNamespace,
  createVolume,
  imageOfClaim,
  patternedImage,
  readImage,
  temporaryObjects,
  writeImage,
} from "../integration/volumes/volume-env.ts";
import { failures, PAIR, startWorkflowEnv, type WorkflowEnv } from "./workflow-env.ts";

const MiB = 1024 * 1024;
const NAMESPACE = "far-away";
const CLAIM = "ledger";
const VOLUME_BYTES = 24 * MiB;
// A WAN between the sites: the destination's API server and the S3 endpoint both sit behind it.
const wan: LinkOptions = { idleSeconds: 60, bytesPerSecond: 20 * MiB, latencyMs: 20 };

vi.setConfig({ testTimeout: 900_000 });

let env: WorkflowEnv;
let sourceImage: Buffer;

beforeAll(async () => {
  env = await startWorkflowEnv({ link: { destination: wan, s3: wan } });
  const source = env.volumes.source;
  await createNamespace(source, NAMESPACE);
  sourceImage = patternedImage(VOLUME_BYTES, 4 * MiB);
  await writeImage(await createVolume(source, NAMESPACE, CLAIM, VOLUME_BYTES, "Block"), sourceImage);
  await env.publishedEvents();
});

afterAll(async () => {
  await env?.stop();
});

describe("a migration over a 20 MiB/s, 20 ms link to the destination and to S3", () => {
  it("moves the volume's bytes, and they crossed both links", async () => {
    const run = await env.run(
      "migrate",
      { pair: PAIR, namespaces: [NAMESPACE], excludeResourceTypes: ["*.kwok.x-k8s.io"] },
      "slow-1",
    );
    expect(run.error, failures(run)).toBeUndefined();
    expect(run.output?.result).toMatchObject({ status: "Successful", namespaces: [NAMESPACE] });

    const destination = await imageOfClaim(env.volumes.destination, NAMESPACE, CLAIM);
    expect((await readImage(destination, VOLUME_BYTES)).equals(sourceImage)).toBe(true);
    // Two distinct random 4 MiB chunks at least, staged into S3 and written into the destination.
    const { destination: apiLink, s3: s3Link } = env.volumes.links;
    expect(apiLink?.forwardedBytes).toBeGreaterThan(8 * MiB);
    expect(s3Link?.forwardedBytes).toBeGreaterThan(8 * MiB);
    expect(apiLink?.cuts).toEqual({ idle: 0, reset: 0 });
    expect(await temporaryObjects(env.volumes.destination)).toEqual([]);
  });
});
