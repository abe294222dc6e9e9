import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type ClusterClient,
  createClusterClient,
} from "../../../functions/lib/kube/client/cluster-client.ts";
import { KubeApiError } from "../../../functions/lib/kube/client/kube-api-error.ts";

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

/** A real HTTP server on loopback answering from a script, one handler per request. */
let server: Server;
let script: Handler[];
let seen: Array<{ method?: string; url?: string; authorization?: string; body: string }>;
let client: ClusterClient;
let sleeps: number[];

function kubeConfigFor(url: string): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: "local", server: url, skipTLSVerify: true }],
    users: [{ name: "tester", token: "secret-token" }],
    contexts: [{ name: "local", cluster: "local", user: "tester" }],
    currentContext: "local",
  });
  return kubeConfig;
}

const json =
  (status: number, body: unknown, headers: Record<string, string> = {}): Handler =>
  (_request, response) => {
    response.writeHead(status, { "content-type": "application/json", ...headers });
    response.end(JSON.stringify(body));
  };
const status = (code: number, reason: string, message: string) =>
  json(code, { kind: "Status", apiVersion: "v1", status: "Failure", reason, message, code });

beforeEach(async () => {
  script = [];
  seen = [];
  sleeps = [];
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      seen.push({
        method: request.method,
        url: request.url,
        authorization: request.headers.authorization,
        body: Buffer.concat(chunks).toString(),
      });
      const handler = script.shift() ?? status(500, "InternalError", "script exhausted");
      handler(request, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  client = await createClusterClient(kubeConfigFor(`http://127.0.0.1:${port}`), {
    name: "source",
    retry: {
      maxAttempts: 4,
      baseDelayMs: 100,
      maxDelayMs: 2_000,
      random: () => 0.5,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    },
  });
});

afterEach(async () => {
  client.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe("cluster client", () => {
  it("sends the credentials, query and JSON body, and parses the answer", async () => {
    script.push(json(201, { kind: "ConfigMap", metadata: { name: "c" } }));
    const response = await client.request({
      method: "PATCH",
      path: "/api/v1/namespaces/shop/configmaps/c",
      query: { fieldManager: "kubeferry", force: true, dryRun: undefined },
      contentType: "application/apply-patch+yaml",
      body: { kind: "ConfigMap" },
    });
    expect(response).toEqual({ status: 201, body: { kind: "ConfigMap", metadata: { name: "c" } } });
    expect(seen).toEqual([
      {
        method: "PATCH",
        url: "/api/v1/namespaces/shop/configmaps/c?fieldManager=kubeferry&force=true",
        authorization: "Bearer secret-token",
        body: '{"kind":"ConfigMap"}',
      },
    ]);
  });

  it("retries 5xx answers with jittered exponential backoff", async () => {
    script.push(
      status(503, "ServiceUnavailable", "etcd leader changed"),
      status(500, "InternalError", "x"),
      json(200, {}),
    );
    await client.request({ method: "GET", path: "/api/v1/namespaces" });
    expect(seen).toHaveLength(3);
    expect(sleeps).toEqual([50, 100]);
  });

  it("waits as long as Retry-After says on 429, bounded by the maximum delay", async () => {
    script.push(
      status(429, "TooManyRequests", "slow down"),
      json(429, { reason: "TooManyRequests" }, { "retry-after": "1" }),
      json(429, { reason: "TooManyRequests" }, { "retry-after": "30" }),
      json(200, {}),
    );
    await client.request({ method: "GET", path: "/version" });
    expect(sleeps).toEqual([50, 1_000, 2_000]);
  });

  it("retries a reset connection", async () => {
    script.push((request) => request.socket.destroy(), json(200, { ok: true }));
    const response = await client.request({ method: "GET", path: "/version" });
    expect(response.body).toEqual({ ok: true });
    expect(seen).toHaveLength(2);
  });

  it("gives up after the attempts allowed, with the server's message", async () => {
    script.push(...Array.from({ length: 4 }, () => status(503, "ServiceUnavailable", "still down")));
    await expect(client.request({ method: "GET", path: "/version" })).rejects.toThrow(
      "cluster source: GET /version failed: 503 ServiceUnavailable: still down",
    );
    expect(seen).toHaveLength(4);
  });

  it.each([
    [404, "NotFound", 'configmaps "x" not found', ""],
    [401, "Unauthorized", "Unauthorized", "renew the token"],
    [403, "Forbidden", "cannot list secrets", "grant it with RBAC"],
    [422, "Invalid", "spec.ports: Required value", ""],
  ])("does not retry %i and says what to do", async (code, reason, message, hint) => {
    script.push(status(code, reason, message));
    const error = await client.request({ method: "GET", path: "/x" }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(KubeApiError);
    expect((error as KubeApiError).details).toMatchObject({ cluster: "source", status: code, reason });
    expect((error as Error).message).toContain(message);
    expect((error as Error).message).toContain(hint);
    expect(seen).toHaveLength(1);
  });

  it("fails at once, naming the cluster, when nothing listens", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const unreachable = await createClusterClient(kubeConfigFor(`http://127.0.0.1:${port}`), {
      name: "destination",
      retry: { sleep: async (ms) => void sleeps.push(ms) },
    });
    const error = await unreachable
      .request({ method: "GET", path: "/version" })
      .catch((caught: unknown) => caught);
    expect((error as KubeApiError).details).toEqual({ cluster: "destination", reason: "ECONNREFUSED" });
    expect((error as Error).message).toMatch(
      /^cluster destination: GET \/version failed: cannot reach the API server/,
    );
    expect(sleeps).toEqual([]);
  });
});
