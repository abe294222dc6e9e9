import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { type ChunkKeys, chunkIdForDigest } from "../../functions/lib/repository/chunk-crypto.ts";
import type { ImageHasher, ImageHashingCrypto } from "./image-hashing.ts";

interface Reply {
  job: number;
  id?: string;
  data?: Uint8Array;
  error?: string;
}

const workerUrl = new URL("./content-crypto-worker.ts", import.meta.url);

/**
 * Hashing and AES-GCM on worker threads, so chunks are hashed and encrypted on every core while
 * the main thread does I/O. Data in SharedArrayBuffers (as image chunks are) reaches a worker
 * without a copy; other data is copied, so a caller's buffer is never detached. Idle workers do
 * not keep the process alive.
 */
export class WorkerContentCrypto implements ImageHashingCrypto {
  private readonly workers: CryptoWorker[] = [];

  constructor(
    private readonly keys: ChunkKeys,
    threads = availableParallelism(),
  ) {
    for (let index = 0; index < threads; index++) this.workers.push(new CryptoWorker(keys, true));
  }

  chunkIdForDigest(digest: Uint8Array): string {
    return chunkIdForDigest(this.keys, digest);
  }

  async chunkIdFor(plaintext: Uint8Array): Promise<string> {
    return (await this.leastBusy().request("chunkIdFor", "", plaintext)).id as string;
  }

  async seal(id: string, plaintext: Uint8Array): Promise<Buffer> {
    return toBuffer((await this.leastBusy().request("seal", id, plaintext)).data);
  }

  async open(id: string, sealed: Uint8Array): Promise<Buffer> {
    return toBuffer((await this.leastBusy().request("open", id, sealed, true)).data);
  }

  /** Its own worker: an image's hash is sequential, so it runs beside the chunk workers. */
  imageHasher(): ImageHasher {
    // A respawned hasher would have lost the bytes hashed so far: it fails instead.
    const worker = new CryptoWorker(this.keys, false);
    return {
      update: (data) => worker.send("update", data),
      digest: async () => (await worker.request("digest", "", new Uint8Array(0))).id as string,
      close: () => worker.terminate(),
    };
  }

  private leastBusy(): CryptoWorker {
    return this.workers.reduce((least, candidate) => (candidate.busy < least.busy ? candidate : least));
  }
}

/** One worker thread and its outstanding requests. */
class CryptoWorker {
  private worker: Worker;
  private readonly pending = new Map<
    number,
    { resolve: (reply: Reply) => void; reject: (error: Error) => void }
  >();
  private nextJob = 0;
  private failure: Error | undefined;

  constructor(
    private readonly keys: ChunkKeys,
    private readonly respawn: boolean,
  ) {
    this.worker = this.spawn();
  }

  get busy(): number {
    return this.pending.size;
  }

  /** Fire and forget, in order with every other message to this worker. */
  send(operation: string, data: Uint8Array): void {
    const [message, transfer] = shareable(data, false);
    this.worker.postMessage({ job: -1, operation, id: "", data: message }, transfer);
  }

  /** `handOver`: the caller gives data up, so it may be moved to the worker instead of copied. */
  request(operation: string, id: string, data: Uint8Array, handOver = false): Promise<Reply> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const job = this.nextJob++;
    const [message, transfer] = shareable(data, handOver);
    return new Promise((resolve, reject) => {
      this.pending.set(job, { resolve, reject });
      this.worker.ref();
      this.worker.postMessage({ job, operation, id, data: message }, transfer);
    });
  }

  async terminate(): Promise<void> {
    this.worker.removeAllListeners("exit");
    await this.worker.terminate();
  }

  private spawn(): Worker {
    // Copies of just the key bytes, not whatever larger buffer the keys may be views of.
    const keys: ChunkKeys = {
      idKey: new Uint8Array(this.keys.idKey),
      encryptionKey: new Uint8Array(this.keys.encryptionKey),
    };
    const worker = new Worker(workerUrl, { workerData: keys });
    worker.unref();
    worker.on("message", (reply: Reply) => {
      const pending = this.pending.get(reply.job);
      this.pending.delete(reply.job);
      if (this.pending.size === 0) worker.unref();
      if (reply.error !== undefined) pending?.reject(new Error(reply.error));
      else pending?.resolve(reply);
    });
    worker.once("error", (error) => this.fail(error));
    worker.once("exit", (code) => this.fail(new Error(`content crypto worker exited with code ${code}`)));
    return worker;
  }

  /** Fails what the dead worker owed; a fresh one takes what comes next, if respawning is safe. */
  private fail(error: Error) {
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
    if (this.respawn) this.worker = this.spawn();
    else this.failure = error;
  }
}

/**
 * Shared memory is sent as is. Anything else is moved if it was handed over and is alone in its
 * ArrayBuffer (moving detaches the whole ArrayBuffer), or else copied and the copy moved.
 */
function shareable(data: Uint8Array, handOver: boolean): [Uint8Array, ArrayBuffer[]] {
  if (data.buffer instanceof SharedArrayBuffer) return [data, []];
  const alone = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
  const sent = handOver && alone ? (data as Uint8Array<ArrayBuffer>) : new Uint8Array(data);
  return [sent, [sent.buffer]];
}

function toBuffer(data: Uint8Array | undefined): Buffer {
  if (data === undefined) throw new Error("content crypto worker replied without data");
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
