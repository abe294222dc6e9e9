import { z } from "zod";
import type { BlobStore } from "./blob-store.ts";

/**
 * Chunks garbage collection found unreferenced and means to delete once they have stayed so
 * for the safety margin: gc/candidates/<id[0:2]>/<id>, plain JSON holding when it was marked.
 * A writer that dedups against a candidate removes the mark ("undeletes" it); a mark is never
 * refreshed, so its time is when the chunk was first found unreferenced.
 */

const candidatesPrefix = "gc/candidates/";
const markSchema = z.object({ version: z.literal(1), markedAt: z.iso.datetime() });

export function candidateKey(id: string): string {
  return `${candidatesPrefix}${id.slice(0, 2)}/${id}`;
}

export class DeletionCandidates {
  constructor(private readonly store: BlobStore) {}

  /** Marks the chunk unless it already is; an existing mark keeps its older time. */
  async mark(id: string, now: Date): Promise<void> {
    const mark = { version: 1, markedAt: now.toISOString() };
    await this.store.putIfAbsent(candidateKey(id), Buffer.from(JSON.stringify(mark)));
  }

  /** When the chunk was marked, or undefined if it is not (or no longer) a candidate. */
  async markedAt(id: string): Promise<Date | undefined> {
    const data = await this.store.get(candidateKey(id));
    if (data === undefined) return undefined;
    return new Date(markSchema.parse(JSON.parse(data.toString("utf8"))).markedAt);
  }

  async isMarked(id: string): Promise<boolean> {
    return (await this.store.head(candidateKey(id))) !== undefined;
  }

  async unmark(id: string): Promise<void> {
    await this.store.delete(candidateKey(id));
  }

  async *list(): AsyncIterable<string> {
    for await (const info of this.store.list(candidatesPrefix)) {
      yield info.key.slice(info.key.lastIndexOf("/") + 1);
    }
  }
}
