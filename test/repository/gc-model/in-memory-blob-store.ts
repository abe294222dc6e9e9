import {
  assertValidKey,
  type BlobInfo,
  type BlobStore,
} from "../../../functions/lib/repository/blob-store.ts";

/** A BlobStore in a Map whose lastModified comes from the model's clock, not the wall clock. */
export class InMemoryBlobStore implements BlobStore {
  readonly location = "memory://model/";
  private readonly objects = new Map<string, { data: Buffer; lastModified: Date }>();

  constructor(private readonly now: () => Date) {}

  async put(key: string, data: Uint8Array): Promise<void> {
    assertValidKey(key);
    this.objects.set(key, { data: Buffer.from(data), lastModified: this.now() });
  }

  async putIfAbsent(key: string, data: Uint8Array): Promise<boolean> {
    assertValidKey(key);
    if (this.objects.has(key)) return false;
    this.objects.set(key, { data: Buffer.from(data), lastModified: this.now() });
    return true;
  }

  async get(key: string): Promise<Buffer | undefined> {
    const object = this.objects.get(key);
    return object === undefined ? undefined : Buffer.from(object.data);
  }

  async head(key: string): Promise<BlobInfo | undefined> {
    const object = this.objects.get(key);
    return object === undefined
      ? undefined
      : { key, size: object.data.length, lastModified: object.lastModified };
  }

  async *list(prefix: string): AsyncIterable<BlobInfo> {
    const keys = [...this.objects.keys()].filter((key) => key.startsWith(prefix)).sort();
    for (const key of keys) {
      const info = await this.head(key);
      if (info !== undefined) yield info;
    }
  }

  async delete(key: string): Promise<void> {
    this.objects.delete(key);
  }
}
