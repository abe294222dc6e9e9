import { randomInt } from "node:crypto";
import { createServer, type Server } from "node:net";

// Below the kernel's ephemeral range (32768–60999 by default): listen(0) hands out ports from
// that range, so two test workers asking at once can both be given a port the other just
// released, and every outgoing connection takes one too. A random port down here collides with
// another worker's only by chance, and one taken already is skipped.
const lowestPort = 10_000;
const highestPort = 32_000;

/**
 * Finds `count` distinct free loopback ports. All are held open until every one is chosen, so
 * the same port is never handed out twice in one call.
 */
export async function freeLoopbackPorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    while (ports.length < count) {
      const port = randomInt(lowestPort, highestPort);
      if (ports.includes(port)) continue;
      const server = createServer();
      const listening = await new Promise<boolean>((resolve) => {
        server.once("error", () => resolve(false));
        server.listen(port, "127.0.0.1", () => resolve(true));
      });
      if (!listening) continue;
      servers.push(server);
      ports.push(port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}
