import { readFile } from "node:fs/promises";
import { createServer, request as httpsRequest } from "node:https";
import type { AddressInfo } from "node:net";
import { connect } from "node:tls";
import { KubeConfig } from "@kubernetes/client-node";
import type { LocalCluster } from "./clusters.ts";
import { selfSignedCertificate } from "./self-signed-certificate.ts";

export interface V4ExecProxy {
  /** The cluster's admin, through the proxy. */
  kubeConfig: KubeConfig;
  /** The WebSocket subprotocols clients asked for, as the API server received them. */
  readonly offeredProtocols: string[];
  stop(): Promise<void>;
}

/**
 * An API server front that speaks only `v4.channel.k8s.io` for exec, as API servers before 1.30
 * and many proxies and load balancers in front of newer ones do: it terminates TLS, drops the v5
 * subprotocol from every WebSocket upgrade and passes everything else through unchanged.
 */
export async function startV4ExecProxy(cluster: LocalCluster): Promise<V4ExecProxy> {
  const upstream = new URL(cluster.server);
  const ca = await readFile(cluster.caCertPath);
  const { cert, key } = selfSignedCertificate();
  const offeredProtocols: string[] = [];
  // Upgraded sockets leave the server's bookkeeping: they are closed here on stop().
  const tunnels = new Set<{ destroy(): void }>();
  const server = createServer({ cert, key }, (incoming, outgoing) => {
    const forwarded = httpsRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: incoming.method,
        path: incoming.url,
        headers: incoming.headers,
        ca,
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forwarded.on("error", () => outgoing.destroy());
    incoming.pipe(forwarded);
  });
  server.on("upgrade", (incoming, socket, head) => {
    const offered = String(incoming.headers["sec-websocket-protocol"] ?? "")
      .split(",")
      .map((protocol) => protocol.trim())
      .filter((protocol) => protocol !== "" && protocol !== "v5.channel.k8s.io");
    offeredProtocols.push(...offered);
    const headers = { ...incoming.headers, "sec-websocket-protocol": offered.join(", ") };
    const lines = [`${incoming.method} ${incoming.url} HTTP/1.1`];
    for (const [name, value] of Object.entries(headers)) {
      for (const one of Array.isArray(value) ? value : [value])
        if (one !== undefined) lines.push(`${name}: ${one}`);
    }
    const toServer = connect(
      { host: upstream.hostname, port: Number(upstream.port), ca, servername: upstream.hostname },
      () => {
        toServer.write(`${lines.join("\r\n")}\r\n\r\n`);
        if (head.length > 0) toServer.write(head);
        toServer.pipe(socket);
        socket.pipe(toServer);
      },
    );
    tunnels.add(toServer).add(socket);
    const close = () => {
      toServer.destroy();
      socket.destroy();
      tunnels.delete(toServer);
      tunnels.delete(socket);
    };
    toServer.on("error", close);
    socket.on("error", close);
    toServer.on("close", close);
    socket.on("close", close);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: "v4-only", server: `https://127.0.0.1:${port}`, caData: cert.toString("base64") }],
    users: [{ name: "admin", token: cluster.adminToken }],
    contexts: [{ name: "v4-only", cluster: "v4-only", user: "admin" }],
    currentContext: "v4-only",
  });
  return {
    kubeConfig,
    offeredProtocols,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const tunnel of tunnels) tunnel.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
