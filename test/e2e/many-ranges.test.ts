import { randomBytes } from "node:crypto";
import { open } from "node:fs/promises";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { getObject, paths } from "../../functions/lib/volumes/kube-calls.ts";
import { payloadBytes } from "../../functions/lib/workflow/local-runner/payload-limit.ts";
import {
  createNamespace,
  createVolume,
  imageOfClaim,
  readImage,
  temporaryObjects,
} from "../integration/volumes/volume-env.ts";
import { failures, PAIR, startWorkflowEnv, type WorkflowEnv } from "./workflow-env.ts";

const MiB = 1024 * 1024;
// One chunk per range: 101 ranges per volume, 303 in all, each a Task invocation of its own.
const RANGE = 4 * MiB;
const VOLUME_BYTES = 101 * RANGE;
const NAMESPACE = "wide";
const CLAIMS = ["wide-0", "wide-1", "wide-2"];

vi.setConfig({ testTimeout: 1_800_000 });

let env: WorkflowEnv;
const sourceImages: Record<string, string> = {};

beforeAll(async () => {
  env = await startWorkflowEnv();
  await createNamespace(env.volumes.source, NAMESPACE);
  for (const claim of CLAIMS) {
    sourceImages[claim] = await createVolume(env.volumes.source, NAMESPACE, claim, VOLUME_BYTES, "Block");
    // Thin volumes with data here and there: a random chunk every tenth range, the rest holes.
    const file = await open(sourceImages[claim] as string, "r+");
    for (let range = 0; range < 101; range += 10)
      await file.write(randomBytes(RANGE), 0, RANGE, range * RANGE);
    await file.close();
  }
  await env.publishedEvents();
});

afterAll(async () => {
  await env?.stop();
});

it("migrates three volumes of over 300 ranges in all with every state, item and child input within 256 KiB", async () => {
  const run = await env.run(
    "migrate",
    { pair: PAIR, namespaces: [NAMESPACE], excludeResourceTypes: ["*.kwok.x-k8s.io"], rangeBytes: RANGE },
    "wide-1",
  );
  expect(run.error, failures(run)).toBeUndefined();
  const planned = run.events.find((event) => event.type === "StateExited" && event.state === "PlanRanges");
  expect((planned?.output as any)?.plan).toMatchObject({ volumes: 3, ranges: 303, bytes: 3 * VOLUME_BYTES });
  const invoked = (state: string) =>
    run.events.filter((event) => event.type === "StateExited" && event.state === state).length;
  expect(invoked("StageRange")).toBe(303);
  expect(invoked("RestoreRange")).toBe(303);
  // The runner enforces the quota; the largest payload shows how far below it the run stays.
  const largest = Math.max(
    ...run.events.flatMap((event) =>
      [event.input, event.output].filter((p) => p !== undefined).map(payloadBytes),
    ),
  );
  expect(largest).toBeLessThan(16 * 1024);

  const result = run.output?.result;
  expect(result).toMatchObject({ status: "Successful" });
  expect(result.volumes.map((v: any) => [v.name, v.verified]).sort()).toEqual(CLAIMS.map((c) => [c, true]));
  for (const claim of CLAIMS) {
    const destination = await imageOfClaim(env.volumes.destination, NAMESPACE, claim);
    expect(
      (await readImage(destination, VOLUME_BYTES)).equals(await readImage(sourceImages[claim] as string)),
      claim,
    ).toBe(true);
    const pvc = await getObject<any>(env.volumes.destination.client, paths.pvc(NAMESPACE, claim));
    expect(pvc?.spec.storageClassName).toBe("dest-fast");
  }
  // 11 data chunks per volume were written, as the restored ranges recorded them in the repository.
  expect(result.volumes.map((v: any) => v.chunksWritten)).toEqual([11, 11, 11]);
  expect(await temporaryObjects(env.volumes.source)).toEqual([]);
  expect(await temporaryObjects(env.volumes.destination)).toEqual([]);
});
