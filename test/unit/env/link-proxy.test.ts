import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { type LinkOptions, type LinkProxy, parseLinkSpec, startLinkProxy } from "../../env/link-proxy.ts";

const MiB = 1024 * 1024;
let echo: Server;
let echoPort: number;
const proxies: LinkProxy[] = [];

beforeAll(async () => {
  // Echoes every byte back and passes a half-close on, like a request/response peer.
  echo = createServer({ allowHalfOpen: true }, (socket) => {
    socket.on("error", () => {});
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => echo.listen(0, "127.0.0.1", resolve));
  echoPort = (echo.address() as { port: number }).port;
});
afterAll(() => new Promise((resolve) => echo.close(resolve)));
afterEach(async () => {
  vi.unstubAllEnvs();
  await Promise.all(proxies.splice(0).map((proxy) => proxy.stop()));
});

async function proxy(link: Partial<LinkOptions> = {}): Promise<LinkProxy> {
  const started = await startLinkProxy(
    { host: "127.0.0.1", port: echoPort },
    { idleSeconds: 0, latencyMs: 0, ...link },
  );
  proxies.push(started);
  return started;
}

async function connect(through: LinkProxy): Promise<Socket> {
  const socket = createConnection({ host: through.host, port: through.port, allowHalfOpen: true });
  await once(socket, "connect");
  return socket;
}

/** Resolves when the socket is closed, however: a reset is what several tests expect. */
function closed(socket: Socket): Promise<void> {
  return new Promise((resolve) => socket.once("close", () => resolve()));
}

/** Sends `data`, half-closes, and collects the echo until the proxy closes or cuts the connection. */
async function roundTrip(through: LinkProxy, data: Buffer) {
  const socket = await connect(through);
  const received: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => received.push(chunk));
  let error: NodeJS.ErrnoException | undefined;
  socket.on("error", (e) => {
    error = e;
  });
  const started = Date.now();
  socket.end(data);
  await closed(socket);
  return { echoed: Buffer.concat(received), error, ms: Date.now() - started };
}

describe("link proxy", () => {
  it("passes bytes unchanged and in order both ways, and a half-close after them", async () => {
    const data = randomBytes(3 * MiB);
    const { echoed, error } = await roundTrip(await proxy({ latencyMs: 5 }), data);
    expect(error).toBeUndefined();
    expect(echoed.equals(data)).toBe(true);
  });

  it("cuts a connection silent in both directions for the idle timeout, not a talking one", async () => {
    const link = await proxy({ idleSeconds: 0.4 });
    const silent = await connect(link);
    silent.on("error", () => {});
    const talking = await connect(link);
    talking.on("data", () => {});
    talking.on("error", () => {});
    const started = Date.now();
    const ticker = setInterval(() => talking.write("."), 100);
    await closed(silent);
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
    await sleep(600);
    clearInterval(ticker);
    expect(talking.destroyed).toBe(false);
    expect(link.cuts.idle).toBe(1);
    talking.destroy();
  });

  it("scales the idle timeout by KUBEFERRY_TIME_SCALE", async () => {
    vi.stubEnv("KUBEFERRY_TIME_SCALE", "0.01");
    const link = await proxy({ idleSeconds: 30 });
    const silent = await connect(link);
    silent.on("error", () => {});
    const started = Date.now();
    await closed(silent);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(link.cuts.idle).toBe(1);
  });

  it("limits each direction to the bandwidth", async () => {
    const data = randomBytes(2 * MiB);
    const free = await roundTrip(await proxy(), data);
    const limited = await roundTrip(await proxy({ bytesPerSecond: 4 * MiB }), data);
    expect(limited.echoed.equals(data)).toBe(true);
    // 2 MiB at 4 MiB/s is at least half a second each way; both ways overlap in an echo.
    expect(limited.ms).toBeGreaterThanOrEqual(450);
    expect(free.ms).toBeLessThan(limited.ms / 2);
  });

  it("delays every chunk by the latency, each way", async () => {
    const { echoed, ms } = await roundTrip(await proxy({ latencyMs: 150 }), Buffer.from("ping"));
    expect(echoed.toString()).toBe("ping");
    expect(ms).toBeGreaterThanOrEqual(290);
  });

  it("resets the connection that crosses the fault's byte count, then lets traffic pass", async () => {
    const link = await proxy({ resetAfterBytes: 256 * 1024 });
    const data = randomBytes(MiB);
    const first = await roundTrip(link, data);
    expect(first.error?.code).toBe("ECONNRESET");
    expect(first.echoed.length).toBeLessThan(data.length);
    const second = await roundTrip(link, data);
    expect(second.error).toBeUndefined();
    expect(second.echoed.equals(data)).toBe(true);
    expect(link.cuts.reset).toBe(1);
  });
});

describe("parseLinkSpec", () => {
  it("reads the env:up form and defaults the rest", () => {
    expect(parseLinkSpec("idle=60,bandwidth=20MiB,latency=20ms")).toEqual({
      idleSeconds: 60,
      bytesPerSecond: 20 * MiB,
      latencyMs: 20,
    });
    expect(parseLinkSpec("reset=1Mi")).toEqual({ idleSeconds: 60, latencyMs: 0, resetAfterBytes: MiB });
  });

  it("names the setting that is wrong", () => {
    expect(() => parseLinkSpec("idle=soon")).toThrow(/idle/);
    expect(() => parseLinkSpec("bandwidth=fast")).toThrow(/bandwidth must be a positive byte quantity/);
    expect(() => parseLinkSpec("jitter=5ms")).toThrow(/unknown link setting "jitter"/);
    expect(() => parseLinkSpec("idle")).toThrow(/name=value/);
  });
});
