import http from "node:http";
import https from "node:https";
import type { KubeConfig } from "@kubernetes/client-node";
import { ValidationError } from "../../errors.ts";
import { type RetryPolicy, withRetry } from "../../retry.ts";
import { KubeApiError } from "./kube-api-error.ts";
import { defaultKubeRetryPolicy } from "./retry.ts";

export interface KubeRequest {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** API path from the server root, e.g. "/api/v1/namespaces/shop/configmaps". */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** Defaults to application/json when there is a body. */
  contentType?: string;
  /** Defaults to application/json (discovery asks for its aggregated form). */
  accept?: string;
}

export interface KubeResponse<T> {
  status: number;
  body: T;
}

/**
 * One cluster's API, explicitly constructed (never a process-global config). `kubeConfig` is
 * there for client-node features that need it (exec/attach websockets); plain REST calls go
 * through `request`, which retries transient failures and keeps connections alive.
 */
export interface ClusterClient {
  /** The name the cluster is registered under; every error message starts with it. */
  readonly name: string;
  readonly server: string;
  readonly kubeConfig: KubeConfig;
  request<T = unknown>(request: KubeRequest): Promise<KubeResponse<T>>;
  /** Closes idle keep-alive connections. */
  close(): void;
}

export interface ClusterClientOptions {
  name: string;
  retry?: Partial<RetryPolicy>;
  /** Concurrent connections to the API server; apply parallelism is bounded below this. */
  maxSockets?: number;
  timeoutMs?: number;
}

/**
 * Builds a client from a KubeConfig whose current context names the cluster. TLS material is
 * read once; credentials are applied per request, so exec plugins and minted tokens (EKS)
 * are refreshed by their authenticators when they expire.
 */
export async function createClusterClient(
  kubeConfig: KubeConfig,
  options: ClusterClientOptions,
): Promise<ClusterClient> {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) {
    throw new ValidationError(
      `cluster ${options.name}: the kubeconfig's current context "${kubeConfig.getCurrentContext()}" names no cluster; set a context that exists`,
    );
  }
  const server = new URL(cluster.server);
  const basePath = server.pathname.replace(/\/$/, "");
  const tls: https.RequestOptions = {};
  await kubeConfig.applyToHTTPSOptions(tls);
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 64 };
  const agent =
    server.protocol === "http:"
      ? new http.Agent(agentOptions)
      : new https.Agent({
          ...agentOptions,
          ca: tls.ca,
          cert: tls.cert,
          key: tls.key,
          ...(tls.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: tls.rejectUnauthorized }),
          ...(tls.servername === undefined ? {} : { servername: tls.servername }),
        });
  const transport = server.protocol === "http:" ? http : https;
  const policy = { ...defaultKubeRetryPolicy, ...options.retry };
  const timeoutMs = options.timeoutMs ?? 60_000;

  async function send<T>(request: KubeRequest): Promise<KubeResponse<T>> {
    const headers = await credentialHeaders(kubeConfig);
    const body = request.body === undefined ? undefined : JSON.stringify(request.body);
    if (body !== undefined) {
      headers["content-type"] = request.contentType ?? "application/json";
      headers["content-length"] = String(Buffer.byteLength(body));
    }
    headers.accept = request.accept ?? "application/json";
    const path = `${basePath}${request.path}${queryString(request.query)}`;
    const where = `cluster ${options.name}: ${request.method} ${request.path}`;
    return new Promise((resolve, reject) => {
      const outgoing = transport.request(
        {
          protocol: server.protocol,
          hostname: server.hostname,
          port: server.port,
          method: request.method,
          path,
          headers,
          agent,
        },
        (incoming) => {
          const chunks: Buffer[] = [];
          incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
          incoming.on("error", (error) => reject(networkError(options.name, where, error)));
          incoming.on("end", () => {
            const status = incoming.statusCode ?? 0;
            const text = Buffer.concat(chunks).toString("utf8");
            const parsed = parseBody(text, incoming.headers["content-type"]);
            if (status >= 200 && status < 300) resolve({ status, body: parsed as T });
            else reject(statusError(options.name, where, status, parsed, incoming.headers["retry-after"]));
          });
        },
      );
      outgoing.setTimeout(timeoutMs, () =>
        outgoing.destroy(Object.assign(new Error(`no answer in ${timeoutMs} ms`), { code: "ETIMEDOUT" })),
      );
      outgoing.on("error", (error) => reject(networkError(options.name, where, error)));
      outgoing.end(body);
    });
  }

  return {
    name: options.name,
    server: cluster.server,
    kubeConfig,
    request: (request) => withRetry(policy, () => send(request)),
    close: () => agent.destroy(),
  };
}

async function credentialHeaders(kubeConfig: KubeConfig): Promise<Record<string, string>> {
  const options: https.RequestOptions = {};
  await kubeConfig.applyToHTTPSOptions(options);
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(options.headers ?? {})) {
    if (value !== undefined) headers[key.toLowerCase()] = String(value);
  }
  if (options.auth) headers.authorization = `Basic ${Buffer.from(options.auth).toString("base64")}`;
  return headers;
}

function queryString(query: KubeRequest["query"]): string {
  const entries = Object.entries(query ?? {}).filter(
    (entry): entry is [string, string | number | boolean] => entry[1] !== undefined,
  );
  return entries.length === 0
    ? ""
    : `?${new URLSearchParams(entries.map(([key, value]): [string, string] => [key, String(value)]))}`;
}

function parseBody(text: string, contentType: string | undefined): unknown {
  if (text === "" || !contentType?.includes("json")) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function statusError(
  cluster: string,
  where: string,
  status: number,
  body: unknown,
  retryAfter: string | undefined,
): KubeApiError {
  const statusObject =
    typeof body === "object" && body !== null ? (body as { reason?: string; message?: string }) : {};
  const message =
    statusObject.message ?? (typeof body === "string" && body ? body.slice(0, 500) : `HTTP ${status}`);
  const reason = statusObject.reason ?? String(status);
  const retryAfterSeconds = retryAfter === undefined ? undefined : Number(retryAfter);
  return new KubeApiError(`${where} failed: ${status} ${reason}: ${message}${hint(status)}`, {
    cluster,
    status,
    reason,
    ...(retryAfterSeconds !== undefined && Number.isFinite(retryAfterSeconds) ? { retryAfterSeconds } : {}),
  });
}

function networkError(cluster: string, where: string, error: Error): KubeApiError {
  const code = (error as Error & { code?: string }).code ?? error.name;
  return new KubeApiError(
    `${where} failed: cannot reach the API server (${code}: ${error.message}); check the server address and network path`,
    { cluster, reason: code },
    { cause: error },
  );
}

/** What to do about the statuses people meet when a cluster's access is misconfigured. */
function hint(status: number): string {
  if (status === 401)
    return "; the credentials were rejected: renew the token or kubeconfig in the cluster's secret";
  if (status === 403) return "; the identity lacks this permission: grant it with RBAC";
  return "";
}
