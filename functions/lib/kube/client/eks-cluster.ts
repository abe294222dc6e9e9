import { Sha256 } from "@aws-crypto/sha256-js";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import type { AwsCredentialsProvider } from "./eks-token.ts";

export interface EksClusterEndpoint {
  /** https://…eks.amazonaws.com */
  server: string;
  /** Base64 PEM of the cluster CA, as kubeconfig's certificate-authority-data. */
  caData: string;
}

export type DescribeEksCluster = (cluster: string, region: string) => Promise<EksClusterEndpoint>;

/**
 * EKS DescribeCluster, signed by hand: the one EKS call kubeferry makes does not justify
 * another SDK client. `endpoint` overrides the regional endpoint (local servers).
 */
export function describeEksClusterWith(options: {
  credentials: AwsCredentialsProvider;
  endpoint?: string;
  fetch?: typeof fetch;
}): DescribeEksCluster {
  const fetchFn = options.fetch ?? fetch;
  return async (cluster, region) => {
    const base = new URL(options.endpoint ?? `https://eks.${region}.amazonaws.com`);
    const path = `/clusters/${encodeURIComponent(cluster)}`;
    const signer = new SignatureV4({
      credentials: options.credentials,
      region,
      service: "eks",
      sha256: Sha256,
    });
    const signed = await signer.sign(
      new HttpRequest({
        method: "GET",
        protocol: base.protocol,
        hostname: base.hostname,
        ...(base.port ? { port: Number(base.port) } : {}),
        path,
        headers: { host: base.host },
      }),
    );
    const response = await fetchFn(new URL(path, base), { headers: signed.headers });
    const body = (await response.json().catch(() => ({}))) as {
      cluster?: { endpoint?: string; certificateAuthority?: { data?: string } };
      message?: string;
    };
    const server = body.cluster?.endpoint;
    const caData = body.cluster?.certificateAuthority?.data;
    if (!response.ok || !server || !caData) {
      throw new Error(
        `EKS cluster ${cluster} in ${region}: DescribeCluster failed (${response.status} ${body.message ?? "no endpoint or CA in the answer"}); check the name, region and the eks:DescribeCluster permission`,
      );
    }
    return { server, caData };
  };
}
