import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createPair, reversedPairSpec } from "../../functions/lib/kube/pairing/pairs.ts";
import { ORIGINAL_REPLICAS_ANNOTATION } from "../../functions/lib/kube/transform/standby-mode.ts";
import { getObject, listObjects, paths } from "../../functions/lib/volumes/kube-calls.ts";
import { RESTORED_BY_PAIR_ANNOTATION } from "../../functions/lib/volumes/names.ts";
import { waitFor } from "../env/clusters.ts";
import { seed } from "../integration/kube/kube-test-env.ts";
import { SHOP, shopWithBlockVolumes } from "../integration/kube/shop-app.ts";
import {
  imageOfClaim,
  patternedImage,
  readImage,
  type Side,
  temporaryObjects,
  writeImage,
} from "../integration/volumes/volume-env.ts";
import { failures, PAIR, startWorkflowEnv, type WorkflowEnv } from "./workflow-env.ts";

// Whole migrations on a small shared machine: minutes, not seconds.
vi.setConfig({ testTimeout: 900_000 });

const MiB = 1024 * 1024;
const CHUNK = 4 * MiB;
const VOLUME_BYTES = 64 * MiB;
const CLAIMS = ["data-db-0", "data-db-1"] as const;
const REVERSED = `${PAIR}-reverse`;
const selection = { namespaces: [SHOP], excludeResourceTypes: ["*.kwok.x-k8s.io"] };

let env: WorkflowEnv;

async function replicas(side: Side): Promise<number> {
  const db = await getObject<any>(side.client, `/apis/apps/v1/namespaces/${SHOP}/statefulsets/db`);
  return db.spec.replicas;
}

async function podsGone(side: Side): Promise<void> {
  await waitFor(`the db pods on ${side.client.name} to end`, async () => {
    const pods = await listObjects<any>(side.client, paths.pods(SHOP));
    return pods.every((pod) => !pod.metadata.name.startsWith("db-"));
  });
}

async function activation(
  pair: string,
  action: "activate" | "deactivate",
  side: "source" | "destination",
  name: string,
) {
  const run = await env.run("activate", { pair, namespaces: [SHOP], action, side }, name);
  expect(run.output?.result?.status, failures(run)).toBe("Successful");
}

beforeAll(async () => {
  env = await startWorkflowEnv();
  await seed(env.volumes.source.client, shopWithBlockVolumes("sim-fast", VOLUME_BYTES));
  for (const claim of CLAIMS) {
    await writeImage(
      await imageOfClaim(env.volumes.source, SHOP, claim),
      patternedImage(VOLUME_BYTES, CHUNK),
    );
  }
});

afterAll(async () => {
  await env?.stop();
});

describe("failover, reverse sync, failback", () => {
  it("the origin ends with what was written on the destination while it was active, verified, with the staged chunks reused", async () => {
    const { source, destination } = env.volumes;
    const first = await env.run("migrate", { pair: PAIR, ...selection }, "kf-forward-1");
    expect(first.output?.result?.status, failures(first)).toBe("Successful");

    // Failover: the origin stops, the copy starts and the application writes into it.
    await activation(PAIR, "deactivate", "source", "kf-failover-stop");
    await podsGone(source);
    await activation(PAIR, "activate", "destination", "kf-failover-start");
    expect(await replicas(destination)).toBe(2);
    const live = await imageOfClaim(destination, SHOP, CLAIMS[0]);
    const written = await readImage(live);
    written.fill(0x42, 2 * CHUNK, 2 * CHUNK + 3000);
    written.fill(0x43, 9 * CHUNK + 100, 9 * CHUNK + 200);
    await writeImage(live, written);

    // `kubeferry pair reverse`: the same repository, the clusters and mappings swapped.
    const origin = await env.deps.pairs.get(PAIR);
    const reversed = await createPair(
      env.deps.pairs,
      reversedPairSpec(origin as NonNullable<typeof origin>, REVERSED),
      { source: destination.client, destination: source.client },
      new Date(),
    );
    expect(reversed).toMatchObject({ source: "destination", destination: "source", repository: PAIR });
    expect(reversed.storageClassMapping).toEqual({ "dest-fast": "sim-fast", "dest-retain": "sim-retain" });

    // Replicating back while the copy runs: only the two changed chunks are new to the repository.
    const back = await env.run("migrate", { pair: REVERSED, ...selection }, "kf-reverse-1");
    expect(back.output?.result?.status, failures(back)).toBe("Successful");
    const volumes = back.output?.result?.volumes as Array<Record<string, any>>;
    expect(volumes.map((volume) => volume.verified)).toEqual([true, true]);
    const uploaded = Object.fromEntries(volumes.map((volume) => [volume.name, volume.chunksUploaded]));
    expect(uploaded).toEqual({ [CLAIMS[0]]: 2, [CLAIMS[1]]: 0 });
    const originImage = await imageOfClaim(source, SHOP, CLAIMS[0]);
    expect((await readImage(originImage, VOLUME_BYTES)).equals(written)).toBe(true);
    // The origin's own PVCs were updated in place (no new volume), and are the reversed pair's now.
    const claim = await getObject<any>(source.client, paths.pvc(SHOP, CLAIMS[0]));
    expect(claim.metadata.annotations[RESTORED_BY_PAIR_ANNOTATION]).toBe(REVERSED);
    expect(await replicas(source)).toBe(0);
    expect(await temporaryObjects(source)).toEqual([]);
    expect(await temporaryObjects(destination)).toEqual([]);

    // Failback: the copy stops, a last incremental sync, the origin starts.
    await activation(PAIR, "deactivate", "destination", "kf-failback-stop");
    await podsGone(destination);
    const last = await env.run("migrate", { pair: REVERSED, ...selection }, "kf-reverse-2");
    expect(last.output?.result?.status, failures(last)).toBe("Successful");
    await activation(REVERSED, "activate", "destination", "kf-failback-start");
    expect(await replicas(source)).toBe(2);
    const db = await getObject<any>(source.client, `/apis/apps/v1/namespaces/${SHOP}/statefulsets/db`);
    expect(db.metadata.annotations?.[ORIGINAL_REPLICAS_ANNOTATION]).toBeUndefined();
    expect((await readImage(originImage, VOLUME_BYTES)).equals(written)).toBe(true);
  });
});
