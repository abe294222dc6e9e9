import { z } from "zod";
import { open, seal } from "./aead.ts";
import type { BlobStore } from "./blob-store.ts";
import { ManifestInvalid, ManifestMissing } from "./errors.ts";
import { imageManifestSchema } from "./image-manifest.ts";
import type { RepositoryKeys } from "./repository-keys.ts";
import { fileTreeSchema } from "./tree-manifest.ts";

/**
 * Per-run metadata: a run record, one manifest per volume and the resource bundle, each an
 * encrypted JSON object bound to its key (the key is the associated data, so a manifest cannot be
 * swapped for another) and validated on read.
 */

const name = z.string().regex(/^[A-Za-z0-9._-]+$/, "letters, digits, '.', '_' and '-' only");
const timestamp = z.iso.datetime();

/** What every manifest of one staged volume starts with. */
const stagedVolumeSchema = z.object({
  version: z.literal(1),
  runId: name,
  namespace: name,
  /** The PersistentVolumeClaim's name on the source. */
  name,
  createdAt: timestamp,
});

export const volumeManifestSchema = stagedVolumeSchema.extend({ image: imageManifestSchema });

/** A volume moved file by file (the file transport): its tree instead of a device image. */
export const treeManifestSchema = stagedVolumeSchema.extend({
  tree: fileTreeSchema,
  /** snapshot: read from a point-in-time copy; live: read from the running volume between the hooks. */
  consistency: z.enum(["snapshot", "live", "quiesced"]).default("snapshot"),
  /** Runs since the tree was last built by reading every file (0: this one did). */
  incrementalRuns: z.number().int().nonnegative().default(0),
});

/** The namespaces a run covered: its request's (records before that field: its volumes'). */
export function recordNamespaces(record: RunRecord): string[] {
  return [...new Set(record.namespaces ?? record.volumes.map((volume) => volume.namespace))];
}

/** A run that ended with its data committed (Succeeded, or PartialSuccess: some objects refused). */
export function isFinished(record: RunRecord): boolean {
  return record.status === "Succeeded" || record.status === "PartialSuccess";
}

export const resourceBundleSchema = z.object({
  version: z.literal(1),
  runId: name,
  /** Exported, sanitized Kubernetes objects, in the order they were discovered. */
  objects: z.array(z.record(z.string(), z.unknown())),
  /** Exported objects per type ("apps/v1 Deployment"). */
  summary: z.record(z.string(), z.number().int().nonnegative()).default({}),
});

export const imageStatsSchema = z.object({
  chunks: z.number().int().nonnegative(),
  holes: z.number().int().nonnegative(),
  newChunks: z.number().int().nonnegative(),
  newBytes: z.number().int().nonnegative(),
});

export const runRecordSchema = z.object({
  version: z.literal(1),
  runId: name,
  pair: name,
  status: z.enum(["Running", "Succeeded", "PartialSuccess", "Failed", "Skipped", "TimedOut", "Aborted"]),
  startedAt: timestamp,
  finishedAt: timestamp.optional(),
  /** The request's namespaces: retention keeps the last runs of each (records before it: the volumes'). */
  namespaces: z.array(name).optional(),
  volumes: z.array(
    z.object({
      namespace: name,
      name,
      stats: imageStatsSchema,
      /** How the volume moved and why (volume-transport.ts); absent in records before the file transport. */
      transport: z.enum(["block", "file"]).optional(),
      /** The VolumeGroupSnapshot it was cut in with the others of its group; absent: its own snapshot. */
      snapshotGroup: z.string().optional(),
      consistency: z.enum(["snapshot", "live", "quiesced"]).optional(),
      reason: z.string().optional(),
    }),
  ),
  resources: z.object({ objects: z.number().int().nonnegative() }).optional(),
  /**
   * A DR drill's record: the committed run it restored into a scratch namespace. A drill stages
   * nothing and writes no manifest, so no later run builds on it and retention counts it apart.
   */
  drillOf: name.optional(),
  /** What applying each object on the destination did, and why when it failed. */
  objects: z
    .array(
      z.object({
        group: z.string(),
        version: z.string(),
        kind: z.string(),
        namespace: z.string().optional(),
        name: z.string(),
        status: z.string(),
        reason: z.string().optional(),
      }),
    )
    .optional(),
});

export type VolumeManifest = z.infer<typeof volumeManifestSchema>;
export type TreeManifest = z.infer<typeof treeManifestSchema>;
export type ResourceBundle = z.infer<typeof resourceBundleSchema>;
export type RunRecord = z.infer<typeof runRecordSchema>;

const runsPrefix = "runs/";
const runKey = (runId: string) => `${runsPrefix}${runId}/run.json`;
const resourcesKey = (runId: string) => `${runsPrefix}${runId}/resources.json`;
const volumesPrefix = (runId: string) => `${runsPrefix}${runId}/volumes/`;
const volumeKey = (runId: string, namespace: string, pvc: string) =>
  `${volumesPrefix(runId)}${namespace}/${pvc}.json`;
const treesPrefix = (runId: string) => `${runsPrefix}${runId}/trees/`;
const treeKey = (runId: string, namespace: string, pvc: string) =>
  `${treesPrefix(runId)}${namespace}/${pvc}.json`;

export class ManifestStore {
  constructor(
    private readonly store: BlobStore,
    private readonly keys: RepositoryKeys,
    readonly repository: string,
  ) {}

  writeRunRecord(record: RunRecord): Promise<void> {
    return this.write(runKey(record.runId), runRecordSchema, record);
  }

  readRunRecord(runId: string): Promise<RunRecord> {
    return this.read(runKey(runId), runRecordSchema);
  }

  writeVolumeManifest(manifest: VolumeManifest): Promise<void> {
    return this.write(
      volumeKey(manifest.runId, manifest.namespace, manifest.name),
      volumeManifestSchema,
      manifest,
    );
  }

  readVolumeManifest(runId: string, namespace: string, pvc: string): Promise<VolumeManifest> {
    return this.read(volumeKey(runId, namespace, pvc), volumeManifestSchema);
  }

  writeTreeManifest(manifest: z.input<typeof treeManifestSchema>): Promise<void> {
    return this.write(
      treeKey(manifest.runId, manifest.namespace, manifest.name),
      treeManifestSchema,
      treeManifestSchema.parse(manifest),
    );
  }

  readTreeManifest(runId: string, namespace: string, pvc: string): Promise<TreeManifest> {
    return this.read(treeKey(runId, namespace, pvc), treeManifestSchema);
  }

  writeResourceBundle(bundle: z.input<typeof resourceBundleSchema>): Promise<void> {
    return this.write(resourcesKey(bundle.runId), resourceBundleSchema, resourceBundleSchema.parse(bundle));
  }

  readResourceBundle(runId: string): Promise<ResourceBundle> {
    return this.read(resourcesKey(runId), resourceBundleSchema);
  }

  /** Every run that has left anything in the repository, finished or not. */
  async listRunIds(): Promise<string[]> {
    const runIds = new Set<string>();
    for await (const info of this.store.list(runsPrefix)) {
      const runId = info.key.slice(runsPrefix.length).split("/")[0];
      if (runId !== undefined) runIds.add(runId);
    }
    return [...runIds];
  }

  /**
   * The record of every run that wrote one (a run that failed before CommitRun has none; one
   * dropped between the listing and its read is skipped).
   */
  async runRecords(): Promise<RunRecord[]> {
    const records: RunRecord[] = [];
    for (const runId of await this.listRunIds()) {
      try {
        records.push(await this.readRunRecord(runId));
      } catch (error) {
        if (!(error instanceof ManifestMissing)) throw error;
      }
    }
    return records;
  }

  /**
   * Every volume manifest a run wrote (including a run that never wrote its record). One deleted
   * between the listing and its read (its run being dropped meanwhile) is skipped.
   */
  volumeManifests(runId: string): AsyncIterable<VolumeManifest> {
    return this.readAll(volumesPrefix(runId), volumeManifestSchema);
  }

  /** Every tree manifest a run wrote, as volumeManifests. */
  treeManifests(runId: string): AsyncIterable<TreeManifest> {
    return this.readAll(treesPrefix(runId), treeManifestSchema);
  }

  private async *readAll<T>(prefix: string, schema: z.ZodType<T>): AsyncIterable<T> {
    for await (const info of this.store.list(prefix)) {
      try {
        yield await this.read(info.key, schema);
      } catch (error) {
        if (!(error instanceof ManifestMissing)) throw error;
      }
    }
  }

  /** Forgets a run; its chunks go at the next garbage collection unless another run uses them. */
  async deleteRun(runId: string): Promise<void> {
    for await (const info of this.store.list(`${runsPrefix}${runId}/`)) {
      await this.store.delete(info.key);
    }
  }

  private async write<T>(key: string, schema: z.ZodType<T>, value: T): Promise<void> {
    const json = JSON.stringify(schema.parse(value));
    await this.store.put(key, seal(this.keys.encryptionKey, Buffer.from(json), Buffer.from(key)));
  }

  private async read<T>(key: string, schema: z.ZodType<T>): Promise<T> {
    const sealed = await this.store.get(key);
    if (sealed === undefined) throw new ManifestMissing(this.repository, key);
    let json: unknown;
    try {
      json = JSON.parse(open(this.keys.encryptionKey, sealed, Buffer.from(key)).toString("utf8"));
    } catch (error) {
      throw new ManifestInvalid(this.repository, key, (error as Error).message);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw new ManifestInvalid(this.repository, key, z.prettifyError(parsed.error));
    return parsed.data;
  }
}
