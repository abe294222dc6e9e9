import { z } from "zod";
import { KubeferryError } from "../errors.ts";
import type { BlobStore } from "../repository/blob-store.ts";
import type { Repository } from "../repository/repository.ts";
import type { MigrationRun } from "./run.ts";
import type { StepDeps } from "./step-deps.ts";
import {
  type PlanSummary,
  type RangeItem,
  type RestorePlan,
  rangeItemSchema,
  restorePlanSchema,
  type StagePlan,
  stagePlanSchema,
  type VolumeList,
} from "./volume-state.ts";

/**
 * The plans of a run live under its prefix in the pair's repository, as plain JSON: the Map's
 * ItemReader reads the items object itself (S3 GetObject, the bucket's SSE-KMS), so it cannot
 * be sealed with the repository key. They hold what the state would otherwise carry — PVC, pod
 * and class names, offsets — and no secret.
 */
const planKey = (runId: string, kind: "stage" | "restore") => `runs/${runId}/plans/${kind}.json`;
const itemsKey = (runId: string) => `runs/${runId}/plans/ranges.json`;
const restoreItemsKey = (runId: string) => `runs/${runId}/plans/restore-ranges.json`;

/** A step was given the key of a plan that is not (or no longer) in the repository. */
export class PlanMissing extends KubeferryError {}

async function writeJson(store: BlobStore, key: string, value: unknown): Promise<void> {
  await store.put(key, Buffer.from(JSON.stringify(value)));
}

/** Writes the stage plan and its range items; returns what the state carries of them. */
export async function writeStagePlan(
  deps: Pick<StepDeps, "repositoryObjectKey">,
  repository: Pick<Repository, "name" | "store">,
  run: MigrationRun,
  plan: StagePlan,
  items: RangeItem[],
): Promise<PlanSummary> {
  const { store } = repository;
  const key = planKey(run.id, "stage");
  await writeJson(store, itemsKey(run.id), items);
  await writeJson(store, key, stagePlanSchema.parse(plan));
  return {
    plan: key,
    items: deps.repositoryObjectKey(repository.name, itemsKey(run.id)),
    volumes: plan.volumes.length,
    ranges: items.length,
    bytes: plan.volumes.reduce((sum, volume) => sum + volume.source.volumeBytes, 0),
  };
}

/**
 * Writes the restore plan and its Map items: a block volume's ranges are the staged ones; a
 * file-transport volume has one item per share of the files to write, however many slices staged it.
 */
export async function writeRestorePlan(
  deps: Pick<StepDeps, "repositoryObjectKey">,
  repository: Pick<Repository, "name" | "store">,
  run: MigrationRun,
  plan: RestorePlan,
  staged: PlanSummary,
): Promise<PlanSummary> {
  const { store } = repository;
  const key = planKey(run.id, "restore");
  const stagedItems =
    staged.ranges === 0 ? [] : await readPlan(store, itemsKey(run.id), z.array(rangeItemSchema));
  const items: RangeItem[] = [
    ...stagedItems.filter((item) => "range" in item),
    ...plan.volumes.flatMap((volume, index) =>
      Array.from({ length: volume.restoreSlices ?? 0 }, (_, slice) => ({ volume: index, slice })),
    ),
  ];
  await writeJson(store, restoreItemsKey(run.id), items);
  await writeJson(store, key, restorePlanSchema.parse(plan));
  return {
    ...staged,
    plan: key,
    items: deps.repositoryObjectKey(repository.name, restoreItemsKey(run.id)),
    ranges: items.length,
  };
}

async function readPlan<Schema extends z.ZodType>(
  store: BlobStore,
  key: string,
  schema: Schema,
): Promise<z.output<Schema>> {
  const data = await store.get(key);
  if (data === undefined) {
    throw new PlanMissing(
      `${store.location}${key} is missing: the run's plan was removed (garbage collection?); start a new run`,
    );
  }
  return schema.parse(JSON.parse(data.toString("utf8")));
}

export const readStagePlan = (store: BlobStore, key: string) => readPlan(store, key, stagePlanSchema);

/** A committed run's stage plan and range items, as a drill restores them. */
export async function readStagedRun(
  store: BlobStore,
  runId: string,
): Promise<{ plan: StagePlan; items: RangeItem[] }> {
  return {
    plan: await readStagePlan(store, planKey(runId, "stage")),
    items: await readPlan(store, itemsKey(runId), z.array(rangeItemSchema)),
  };
}

/**
 * A per-volume list of the run (the PVCs selected, the snapshots cut, the volumes restored),
 * beside the plans: the state carries its key and length only (`volumeListSchema`).
 */
export async function writeVolumeList<Item>(
  store: BlobStore,
  run: MigrationRun,
  name: "selected" | "snapshots" | "restored",
  items: readonly Item[],
): Promise<VolumeList> {
  const key = `runs/${run.id}/plans/${name}.json`;
  await writeJson(store, key, items);
  return { key, count: items.length };
}

export async function readVolumeList<Schema extends z.ZodType>(
  store: BlobStore,
  list: VolumeList,
  item: Schema,
): Promise<Array<z.output<Schema>>> {
  if (list.count === 0) return [];
  return readPlan(store, list.key, z.array(item));
}
export const readRestorePlan = (store: BlobStore, key: string) => readPlan(store, key, restorePlanSchema);
