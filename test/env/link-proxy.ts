import { createConnection, createServer, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { quantityToBytes } from "../../functions/lib/volumes/storage-quantity.ts";
import { scaledMs } from "./time-scale.ts";

/**
 * What a link between two sites does to TCP traffic. Durations are modelled seconds and
 * milliseconds: `KUBEFERRY_TIME_SCALE` shrinks them (the bandwidth is not scaled).
 */
export interface LinkOptions {
  /** Cut (reset both ends of) a connection silent in both directions this long; 0 never cuts. */
  idleSeconds: number;
  /** Bytes per second in each direction, shared by every connection; undefined is unlimited. */
  bytesPerSecond?: number;
  /** Added one-way delay of every chunk, in order. */
  latencyMs: number;
  /** Reset the connection that carries the link past this many bytes, once; later traffic passes. */
  resetAfterBytes?: number;
}

export const defaultLink: LinkOptions = { idleSeconds: 60, latencyMs: 0 };

export interface LinkProxy {
  host: string;
  port: number;
  /** Connections the proxy cut because they were idle, or reset by fault injection. */
  readonly cuts: { idle: number; reset: number };
  /** Bytes passed on so far, both directions together. */
  readonly forwardedBytes: number;
  stop(): Promise<void>;
}

/**
 * Parses `idle=60,bandwidth=20MiB,latency=20ms,reset=1MiB` (any subset; the rest defaults), as
 * `env:up --link` takes it. Bandwidth is per second and per direction; a bare latency is ms.
 */
export function parseLinkSpec(spec: string): LinkOptions {
  const options: LinkOptions = { ...defaultLink };
  for (const part of spec.split(",").filter((p) => p !== "")) {
    const [name, value, extra] = part.split("=");
    if (value === undefined || value === "" || extra !== undefined) {
      throw new Error(`link setting ${JSON.stringify(part)} must read name=value, e.g. idle=60`);
    }
    if (name === "idle") options.idleSeconds = nonNegative(name, Number(value.replace(/s$/, "")));
    else if (name === "latency") options.latencyMs = nonNegative(name, Number(value.replace(/ms$/, "")));
    else if (name === "bandwidth") options.bytesPerSecond = positiveBytes(name, value.replace(/\/s$/, ""));
    else if (name === "reset") options.resetAfterBytes = positiveBytes(name, value);
    else {
      throw new Error(`unknown link setting ${JSON.stringify(name)}; use idle, bandwidth, latency or reset`);
    }
  }
  return options;
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new Error(`link setting ${name} must be a non-negative number (idle=60, latency=20ms)`);
  }
  return value;
}

function positiveBytes(name: string, value: string): number {
  // Storage quantities with an optional trailing B: 20MiB, 20Mi, 1G, 65536.
  let bytes: number;
  try {
    bytes = quantityToBytes(value.replace(/B$/, ""));
  } catch {
    bytes = Number.NaN;
  }
  if (!(bytes > 0)) {
    throw new Error(`link setting ${name} must be a positive byte quantity such as 20MiB, not ${value}`);
  }
  return bytes;
}

// Large reads are split so a bandwidth limit paces them smoothly instead of in one burst.
const sliceBytes = 16 * 1024;
// A direction stops reading while this much waits for its delivery time, as a real window would.
const queuedHighWater = 1024 * 1024;

/** Serialises a direction's bytes at its bandwidth: when each slice has fully left the sender. */
class Pacer {
  private freeAt = 0;
  constructor(private readonly bytesPerSecond: number | undefined) {}

  departure(bytes: number, now: number): number {
    if (this.bytesPerSecond === undefined) return now;
    this.freeAt = Math.max(this.freeAt, now) + (bytes / this.bytesPerSecond) * 1000;
    return this.freeAt;
  }
}

/** The host and port a link proxy forwards to, from a server's URL (https://127.0.0.1:6443). */
export function targetOf(url: string): { host: string; port: number } {
  const { hostname, port } = new URL(url);
  return { host: hostname, port: Number(port) };
}

/** Starts a TCP proxy on a free loopback port that forwards to `target` through the link. */
export async function startLinkProxy(
  target: { host: string; port: number },
  link: LinkOptions = defaultLink,
): Promise<LinkProxy> {
  const idleMs = scaledMs(link.idleSeconds);
  const latencyMs = scaledMs(link.latencyMs / 1000);
  const pacers = { up: new Pacer(link.bytesPerSecond), down: new Pacer(link.bytesPerSecond) };
  const cuts = { idle: 0, reset: 0 };
  let forwarded = 0;
  let faultSpent = link.resetAfterBytes === undefined;
  const open = new Set<Socket>();

  // Half-open on both sides: one side's FIN is passed on after its bytes, not turned into a close.
  const server = createServer({ pauseOnConnect: true, allowHalfOpen: true }, (client) => {
    const upstream = createConnection({ ...target, allowHalfOpen: true });
    for (const socket of [client, upstream]) {
      open.add(socket);
      // A reset or refused connection on one side resets the other, as the peer would see it.
      socket.on("error", () => cut(true));
      socket.on("close", () => {
        open.delete(socket);
        if (!open.has(client) && !open.has(upstream)) clearTimeout(idleTimer);
      });
    }
    let lastActivity = Date.now();
    let idleTimer: NodeJS.Timeout | undefined;
    let ended = false;

    function cut(reset: boolean) {
      if (ended) return;
      ended = true;
      clearTimeout(idleTimer);
      for (const socket of [client, upstream]) {
        if (reset && !socket.destroyed) socket.resetAndDestroy();
        else socket.destroy();
      }
    }

    function watchIdle() {
      if (idleMs <= 0) return;
      const silentFor = Date.now() - lastActivity;
      if (silentFor >= idleMs) {
        cuts.idle++;
        cut(true);
        return;
      }
      idleTimer = setTimeout(watchIdle, idleMs - silentFor);
      idleTimer.unref();
    }

    function pipe(from: Socket, to: Socket, pacer: Pacer) {
      let queued = 0;
      let delivery = Promise.resolve();
      from.on("data", (data: Buffer) => {
        lastActivity = Date.now();
        for (let offset = 0; offset < data.length; offset += sliceBytes) {
          const slice = data.subarray(offset, offset + sliceBytes);
          const arrival = pacer.departure(slice.length, Date.now()) + latencyMs;
          queued += slice.length;
          if (queued > queuedHighWater) from.pause();
          // One chain per direction keeps the bytes in order whatever each slice's delay.
          delivery = delivery.then(async () => {
            const wait = arrival - Date.now();
            if (wait > 0) await sleep(wait);
            if (ended) return;
            if (!faultSpent && forwarded + slice.length >= (link.resetAfterBytes as number)) {
              faultSpent = true;
              cuts.reset++;
              cut(true);
              return;
            }
            forwarded += slice.length;
            lastActivity = Date.now();
            queued -= slice.length;
            const flushed = to.write(slice);
            if (!flushed) from.pause();
            if (flushed && queued <= queuedHighWater) from.resume();
          });
        }
      });
      to.on("drain", () => {
        if (queued <= queuedHighWater) from.resume();
      });
      from.on("end", () => {
        delivery = delivery.then(() => {
          if (!ended) to.end();
        });
      });
    }

    upstream.once("connect", () => {
      pipe(client, upstream, pacers.up);
      pipe(upstream, client, pacers.down);
      client.resume();
      watchIdle();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the link proxy has no TCP address");
  server.unref();

  return {
    host: "127.0.0.1",
    port: address.port,
    cuts,
    get forwardedBytes() {
      return forwarded;
    },
    async stop() {
      const closed = new Promise((resolve) => server.close(resolve));
      for (const socket of open) socket.destroy();
      await closed;
    },
  };
}
