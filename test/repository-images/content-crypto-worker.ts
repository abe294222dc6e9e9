import { createHash } from "node:crypto";
import { parentPort, workerData } from "node:worker_threads";
import {
  type ChunkKeys,
  chunkIdFor,
  openChunk,
  sealChunk,
} from "../../functions/lib/repository/chunk-crypto.ts";

/**
 * Worker thread of WorkerContentCrypto: one chunk operation per request, or, for a worker that
 * hashes a whole image, "update" messages in order and then "digest".
 */

interface Request {
  job: number;
  operation: "chunkIdFor" | "seal" | "open" | "update" | "digest";
  id: string;
  data: Uint8Array;
}

const port = parentPort;
if (port === null) throw new Error("content-crypto-worker.ts runs only as a worker thread");
const keys = workerData as ChunkKeys;
const imageHash = createHash("sha256");
// Updates have no reply, so a failed one is remembered and fails the digest.
let updateFailure: string | undefined;

port.on("message", (request: Request) => {
  try {
    switch (request.operation) {
      case "update":
        if (updateFailure === undefined) imageHash.update(request.data);
        return;
      case "digest":
        if (updateFailure !== undefined) throw new Error(`hashing the image failed: ${updateFailure}`);
        port.postMessage({ job: request.job, id: imageHash.digest("hex") });
        return;
      case "chunkIdFor":
        port.postMessage({ job: request.job, id: chunkIdFor(keys, request.data) });
        return;
      case "seal":
        // Shared memory, not a transferred buffer: the main thread accounts a transferred one as
        // its external memory, and at a few MiB per chunk that kept it collecting garbage.
        port.postMessage({ job: request.job, data: sharedCopy(sealChunk(keys, request.id, request.data)) });
        return;
      case "open":
        // Shared memory: the plaintext goes on to the image hasher and a writer without copies.
        port.postMessage({ job: request.job, data: sharedCopy(openChunk(keys, request.id, request.data)) });
        return;
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (request.operation === "update") updateFailure = message;
    else port.postMessage({ job: request.job, error: message });
  }
});

function sharedCopy(data: Uint8Array): Uint8Array {
  const shared = new Uint8Array(new SharedArrayBuffer(data.byteLength));
  shared.set(data);
  return shared;
}
