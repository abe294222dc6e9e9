import { createHash } from "node:crypto";
import type { BlobStore } from "../../../functions/lib/repository/blob-store.ts";
import { ChunkCorrupt, ChunkMissing, LockHeld, LockLost } from "../../../functions/lib/repository/errors.ts";
import { collectGarbage } from "../../../functions/lib/repository/garbage-collection.ts";
import type { KeyProvider } from "../../../functions/lib/repository/key-provider.ts";
import { openRepository, type Repository } from "../../../functions/lib/repository/repository.ts";
import {
  ChunkBackedParts,
  type RangePart,
  restoredParts,
  stagedParts,
  type VolumeKey,
} from "../../../functions/lib/volumes/range-parts.ts";
import { FakeClock } from "./fake-clock.ts";
import { FaultInjectingBlobStore, InjectedFault } from "./fault-injecting-blob-store.ts";
import { InMemoryBlobStore } from "./in-memory-blob-store.ts";
import { SeededRandom } from "./seeded-random.ts";

/**
 * A model of the repository's users, run against a store that fails, duplicates and lags:
 * runs stage chunks and range parts (and sometimes crash), resume, commit, are dropped by
 * retention, and garbage collection passes run among them while days go by. The property:
 * whatever a committed manifest or a surviving range part names still exists and decrypts.
 */

const chunkSize = 64;
const minute = 60_000;
const day = 24 * 60 * minute;
/** The migrate workflow's execution timeout: a crashed run is not resumed after it. */
const runTimeoutMs = 7 * day;

export interface SeedResult {
  operations: number;
  lostChunks: number;
  corruptManifests: number;
}

type RunState = "staging" | "crashed" | "staged" | "committed" | "abandoned" | "deleted";

interface ModelRun {
  volume: VolumeKey;
  startedAt: number;
  ranges: Buffer[][];
  state: RunState;
  busy: boolean;
}

/** The actor stops here, as a Lambda that timed out or was killed would. */
class Crash extends Error {
  override readonly name = "Crash";
}

function fixedKey(random: SeededRandom): KeyProvider {
  const key = random.bytes(32);
  return { description: "model key", repositoryKey: async () => key };
}

function sha256Hex(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

class Model {
  operations = 0;
  private readonly runs: ModelRun[] = [];
  private readonly pool: Buffer[];
  private gcPasses = 0;

  constructor(
    private readonly random: SeededRandom,
    private readonly clock: FakeClock,
    private readonly repository: Repository,
  ) {
    this.pool = Array.from({ length: 24 }, () => random.bytes(chunkSize));
  }

  private get staged() {
    return new ChunkBackedParts(this.repository.store, this.repository.content, stagedParts);
  }

  private get restored() {
    return new ChunkBackedParts(this.repository.store, this.repository.content, restoredParts);
  }

  /** One step: a few operations at once, so their store calls interleave, then time passes. */
  async step(): Promise<void> {
    const count = this.random.int(1, 5);
    const operations = Array.from({ length: count }, () => this.randomOperation());
    await Promise.all(operations.map((operation) => operation()));
    this.clock.advance(
      this.random.chance(0.5) ? this.random.int(1, 120) * minute : this.random.int(1, 3) * day,
    );
    this.abandonTimedOutRuns();
  }

  /** Days past every safety margin, with passes in between, so every candidate can go. */
  async settle(): Promise<void> {
    for (let pass = 0; pass < 3; pass++) {
      this.clock.advance(9 * day);
      await this.collect();
    }
  }

  /** Picks an operation and reserves its run at once, so one step never picks a run twice. */
  private randomOperation(): () => Promise<void> {
    const idle = (states: RunState[]) => this.runs.filter((run) => !run.busy && states.includes(run.state));
    const onRun = (runs: ModelRun[], operation: (run: ModelRun) => Promise<void>) => () => {
      const run = this.random.pick(runs);
      run.busy = true;
      return () => operation(run);
    };
    const choices: (() => () => Promise<void>)[] = [() => () => this.startRun(), () => () => this.collect()];
    const resumable = idle(["crashed"]);
    if (resumable.length > 0) choices.push(onRun(resumable, (run) => this.resume(run)));
    const committable = idle(["staged"]);
    if (committable.length > 0) choices.push(onRun(committable, (run) => this.commit(run)));
    const droppable = idle(["committed", "abandoned"]);
    if (droppable.length > 0) choices.push(onRun(droppable, (run) => this.drop(run)));
    return this.random.pick(choices)();
  }

  private abandonTimedOutRuns() {
    for (const run of this.runs) {
      if (run.state === "crashed" && this.clock.now().getTime() - run.startedAt > runTimeoutMs) {
        run.state = "abandoned";
      }
    }
  }

  private async startRun(): Promise<void> {
    const ranges = Array.from({ length: this.random.int(2, 4) }, () =>
      Array.from({ length: this.random.int(1, 4) }, () => this.chunkForNewRun()),
    );
    const run: ModelRun = {
      volume: { runId: `run-${this.runs.length}`, namespace: "shop", pvc: "data" },
      startedAt: this.clock.now().getTime(),
      ranges,
      state: "staging",
      busy: true,
    };
    this.runs.push(run);
    await this.stage(run);
  }

  /**
   * Mostly data other runs have (dedup), some of it only runs already dropped had (the chunks a
   * pass may be deleting right now), the rest new.
   */
  private chunkForNewRun(): Buffer {
    const dropped = this.runs.filter((run) => run.state === "deleted").flatMap((run) => run.ranges.flat());
    if (dropped.length > 0 && this.random.chance(0.6)) return this.random.pick(dropped);
    return this.random.chance(0.6) ? this.random.pick(this.pool) : this.random.bytes(chunkSize);
  }

  private async resume(run: ModelRun): Promise<void> {
    await this.stage(run);
  }

  /** Stages every range that has no part yet; a rerun of a range with a part does nothing. */
  private async stage(run: ModelRun): Promise<void> {
    this.operations++;
    try {
      for (const [rangeIndex, chunks] of run.ranges.entries()) {
        if ((await this.staged.read(run.volume, rangeIndex)) !== undefined) continue;
        const part = await this.stageRange(rangeIndex, chunks);
        if (this.random.chance(0.1)) throw new Crash("before writing the part");
        await this.staged.write(run.volume, part);
        if (this.random.chance(0.1)) throw new Crash("after writing the part");
      }
      run.state = "staged";
    } catch (error) {
      run.state = this.crashedOrBroken(error);
    } finally {
      run.busy = false;
    }
  }

  private async stageRange(rangeIndex: number, chunks: Buffer[]): Promise<RangePart> {
    const ids: string[] = [];
    let newChunks = 0;
    let storedBytes = 0;
    for (const chunk of chunks) {
      const stored = await this.repository.content.putChunk(chunk);
      ids.push(stored.id);
      if (stored.created) newChunks++;
      storedBytes += stored.storedBytes;
    }
    return {
      version: 2,
      rangeIndex,
      firstChunk: rangeIndex * 4,
      chunks: ids,
      digests: chunks.map(sha256Hex),
      stats: { holes: 0, newChunks, storedBytes },
    };
  }

  /** Assembles the manifest from the parts, as the commit step does, then writes restored parts. */
  private async commit(run: ModelRun): Promise<void> {
    this.operations++;
    try {
      const parts = await this.staged.readAll(run.volume);
      if (parts.length !== run.ranges.length) throw new Crash("a part is missing from the listing");
      const chunks = parts.flatMap((part) => part.chunks);
      await this.repository.manifests.writeVolumeManifest({
        version: 1,
        runId: run.volume.runId,
        namespace: run.volume.namespace,
        name: run.volume.pvc,
        createdAt: this.clock.now().toISOString(),
        image: {
          chunkSize,
          size: chunks.length * chunkSize,
          sha256: sha256Hex(Buffer.from(chunks.join())),
          chunks,
        },
      });
      run.state = "committed";
      for (const part of parts) {
        await this.restored.write(run.volume, {
          version: 1,
          rangeIndex: part.rangeIndex,
          firstChunk: part.firstChunk,
          digests: part.digests,
        });
      }
    } catch (error) {
      if (run.state !== "committed") run.state = this.crashedOrBroken(error);
      else if (!(error instanceof InjectedFault)) throw error;
    } finally {
      run.busy = false;
    }
  }

  /** Retention dropping a run (its deletion can fail part way, leaving some of its keys). */
  private async drop(run: ModelRun): Promise<void> {
    this.operations++;
    try {
      await this.repository.manifests.deleteRun(run.volume.runId);
      run.state = "deleted";
    } catch (error) {
      if (!(error instanceof InjectedFault)) throw error;
    } finally {
      run.busy = false;
    }
  }

  private async collect(): Promise<void> {
    this.operations++;
    try {
      await collectGarbage(this.repository, { owner: `gc-${this.gcPasses++}`, now: this.clock.now });
    } catch (error) {
      const expected = [InjectedFault, LockHeld, LockLost];
      if (!expected.some((kind) => error instanceof kind)) throw error;
    }
  }

  /** A crash or a store fault leaves the run to be resumed; a chunk gone from under it breaks it. */
  private crashedOrBroken(error: unknown): RunState {
    if (error instanceof Crash || error instanceof InjectedFault) return "crashed";
    // The loss itself is counted by the check; the run cannot go on.
    if (error instanceof ChunkMissing || error instanceof ChunkCorrupt) return "abandoned";
    throw error;
  }
}

/** What a check finds: chunks named by a manifest or range part that are gone or do not decrypt. */
async function checkRepository(
  repository: Repository,
): Promise<{ lostChunks: number; corruptManifests: number }> {
  const lost = new Set<string>();
  const usable = async (id: string) => {
    try {
      await repository.content.getChunk(id);
      return true;
    } catch (error) {
      if (error instanceof ChunkMissing || error instanceof ChunkCorrupt) return false;
      throw error;
    }
  };
  let corruptManifests = 0;
  for (const runId of await repository.manifests.listRunIds()) {
    for await (const volume of repository.manifests.volumeManifests(runId)) {
      let intact = true;
      for (const id of volume.image.chunks) {
        if (id !== null && !(await usable(id))) {
          lost.add(id);
          intact = false;
        }
      }
      if (!intact) corruptManifests++;
    }
    for (const folder of [stagedParts.folder, restoredParts.folder]) {
      for await (const pointer of repository.store.list(`runs/${runId}/${folder}/`)) {
        const partId = (await repository.store.get(pointer.key))?.toString("utf8");
        if (partId === undefined) continue;
        if (!(await usable(partId))) {
          lost.add(partId);
          continue;
        }
        if (folder !== stagedParts.folder) continue;
        const part = stagedParts.schema.parse(
          JSON.parse((await repository.content.getChunk(partId)).toString("utf8")),
        );
        for (const id of part.chunks) if (id !== null && !(await usable(id))) lost.add(id);
      }
    }
  }
  return { lostChunks: lost.size, corruptManifests };
}

async function openOver(store: BlobStore, keyProvider: KeyProvider): Promise<Repository> {
  return openRepository({ name: "model", store, keyProvider });
}

export async function runSeed(seed: number, steps = 30): Promise<SeedResult> {
  const random = new SeededRandom(seed);
  const clock = new FakeClock();
  const keyProvider = fixedKey(random);
  const raw = new InMemoryBlobStore(clock.now);
  const checker = await openOver(raw, keyProvider);
  const faulty = new FaultInjectingBlobStore(raw, random, clock.now);
  const model = new Model(random, clock, await openOver(faulty, keyProvider));
  faulty.startInjecting();
  for (let step = 0; step < steps; step++) await model.step();
  await model.settle();
  // Checked through the store itself: the faults are the actors' trouble, not the checker's.
  const found = await checkRepository(checker);
  return { operations: model.operations, ...found };
}
