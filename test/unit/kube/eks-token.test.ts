import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ValidationError } from "../../../functions/lib/errors.ts";
import { createClusterClient } from "../../../functions/lib/kube/client/cluster-client.ts";
import { loadKubeConfig } from "../../../functions/lib/kube/client/cluster-source.ts";
import { eksTokenSource, mintEksToken } from "../../../functions/lib/kube/client/eks-token.ts";
import { selfSignedCertificate } from "../../env/self-signed-certificate.ts";

const credentials = async () => ({ accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG" });
const start = new Date("2026-11-26T05:00:00Z");

function decode(token: string): URL {
  expect(token.startsWith("k8s-aws-v1.")).toBe(true);
  const encoded = token.slice("k8s-aws-v1.".length);
  expect(encoded).toMatch(/^[A-Za-z0-9_-]+$/);
  return new URL(Buffer.from(encoded, "base64url").toString("utf8"));
}

describe("EKS tokens", () => {
  it("are a presigned STS GetCallerIdentity URL with the cluster header signed", async () => {
    const url = decode(await mintEksToken({ cluster: "prod", region: "eu-west-1", credentials, now: start }));
    expect(url.origin).toBe("https://sts.eu-west-1.amazonaws.com");
    expect(url.pathname).toBe("/");
    const query = url.searchParams;
    expect(query.get("Action")).toBe("GetCallerIdentity");
    expect(query.get("Version")).toBe("2011-06-15");
    expect(query.get("X-Amz-Algorithm")).toBe("AWS4-HMAC-SHA256");
    expect(query.get("X-Amz-Credential")).toBe("AKIDEXAMPLE/20261126/eu-west-1/sts/aws4_request");
    expect(query.get("X-Amz-Date")).toBe("20261126T050000Z");
    expect(query.get("X-Amz-Expires")).toBe("60");
    expect(query.get("X-Amz-SignedHeaders")).toBe("host;x-k8s-aws-id");
    expect(query.get("X-Amz-Signature")).toMatch(/^[0-9a-f]{64}$/);
  });

  it("bind the signature to the cluster name", async () => {
    const signature = async (cluster: string) =>
      decode(await mintEksToken({ cluster, region: "eu-west-1", credentials, now: start })).searchParams.get(
        "X-Amz-Signature",
      );
    expect(await signature("prod")).not.toBe(await signature("staging"));
  });

  it("carry the session token of temporary credentials", async () => {
    const url = decode(
      await mintEksToken({
        cluster: "prod",
        region: "us-east-1",
        credentials: async () => ({ ...(await credentials()), sessionToken: "FwoGZXIvYXdzE" }),
        now: start,
      }),
    );
    expect(url.searchParams.get("X-Amz-Security-Token")).toBe("FwoGZXIvYXdzE");
  });

  it("are re-minted once 14 minutes old, and shared until then", async () => {
    let now = start;
    const source = eksTokenSource({ cluster: "prod", region: "eu-west-1", credentials }, () => now);
    const first = await source();
    now = new Date(start.getTime() + 14 * 60_000 - 1);
    expect(await source()).toBe(first);
    now = new Date(start.getTime() + 14 * 60_000);
    const second = await source();
    expect(second).not.toBe(first);
    expect(decode(second).searchParams.get("X-Amz-Date")).toBe("20261126T051400Z");
  });
});

describe("EKS cluster source", () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  });

  it("sends a fresh EKS token with every request to the described endpoint", async () => {
    const authorizations: Array<string | undefined> = [];
    const tls = selfSignedCertificate();
    server = createServer(tls, (request, response) => {
      authorizations.push(request.headers.authorization);
      response.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
    await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    let now = start;
    const kubeConfig = await loadKubeConfig(
      { kind: "eks", cluster: "prod", region: "eu-west-1" },
      {
        describeEksCluster: async (cluster, region) => {
          expect([cluster, region]).toEqual(["prod", "eu-west-1"]);
          return { server: `https://127.0.0.1:${port}`, caData: tls.cert.toString("base64") };
        },
        awsCredentials: credentials,
        clock: () => now,
      },
      "prod",
    );
    const client = await createClusterClient(kubeConfig, { name: "prod" });
    await client.request({ method: "GET", path: "/version" });
    now = new Date(start.getTime() + 15 * 60_000);
    await client.request({ method: "GET", path: "/version" });
    client.close();
    const dates = authorizations.map((header) => {
      expect(header).toMatch(/^Bearer k8s-aws-v1\./);
      return decode((header ?? "").slice("Bearer ".length)).searchParams.get("X-Amz-Date");
    });
    expect(dates).toEqual(["20261126T050000Z", "20261126T051500Z"]);
  });
});

describe("kubeconfig sources", () => {
  const kubeconfig = JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      { name: "a", cluster: { server: "https://a.example:6443" } },
      { name: "b", cluster: { server: "https://b.example:6443" } },
    ],
    users: [{ name: "u", user: { token: "t" } }],
    contexts: [
      { name: "ctx-a", context: { cluster: "a", user: "u" } },
      { name: "ctx-b", context: { cluster: "b", user: "u" } },
    ],
    "current-context": "ctx-a",
  });

  it.each([
    [undefined, "https://a.example:6443"],
    ["ctx-b", "https://b.example:6443"],
  ])("uses context %s", async (context, server) => {
    const kubeConfig = await loadKubeConfig(
      { kind: "kubeconfig", text: kubeconfig, ...(context ? { context } : {}) },
      {},
      "onprem",
    );
    expect(kubeConfig.getCurrentCluster()?.server).toBe(server);
  });

  it("names the known contexts when the wanted one is missing", async () => {
    await expect(
      loadKubeConfig({ kind: "kubeconfig", text: kubeconfig, context: "ctx-c" }, {}, "onprem"),
    ).rejects.toThrow(
      'cluster onprem: the given kubeconfig has no context "ctx-c"; choose one of: ctx-a, ctx-b',
    );
  });

  it("refuses a missing kubeconfig file", async () => {
    await expect(
      loadKubeConfig({ kind: "kubeconfigFile", path: "/nonexistent/kubeconfig" }, {}, "onprem"),
    ).rejects.toThrow(ValidationError);
  });
});
