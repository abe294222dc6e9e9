import { Sha256 } from "@aws-crypto/sha256-js";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";

/**
 * EKS accepts a token for 15 minutes from its X-Amz-Date; re-minting at 14 minutes means a
 * token is never sent in its last moments.
 */
const EKS_TOKEN_REFRESH_MS = 14 * 60_000;

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Resolves current credentials (an SDK client's `config.credentials` is one). */
export type AwsCredentialsProvider = () => Promise<AwsCredentials>;

export interface EksTokenRequest {
  cluster: string;
  region: string;
  credentials: AwsCredentialsProvider;
  now: Date;
}

/**
 * An EKS bearer token: a presigned STS GetCallerIdentity URL whose signature covers the
 * `x-k8s-aws-id` header naming the cluster (so it cannot be replayed against another cluster),
 * prefixed "k8s-aws-v1." and base64url-encoded without padding. EKS calls the URL to learn who
 * we are; the token itself holds no secret key.
 */
export async function mintEksToken(request: EksTokenRequest): Promise<string> {
  const hostname = `sts.${request.region}.amazonaws.com`;
  const signer = new SignatureV4({
    credentials: request.credentials,
    region: request.region,
    service: "sts",
    sha256: Sha256,
  });
  const presigned = await signer.presign(
    new HttpRequest({
      method: "GET",
      protocol: "https:",
      hostname,
      path: "/",
      query: { Action: "GetCallerIdentity", Version: "2011-06-15" },
      headers: { host: hostname, "x-k8s-aws-id": request.cluster },
    }),
    // The URL's own expiry; EKS enforces its 15 minutes from X-Amz-Date regardless.
    { expiresIn: 60, signingDate: request.now },
  );
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(presigned.query ?? {})) {
    for (const item of Array.isArray(value) ? value : [value]) if (item !== null) query.append(key, item);
  }
  const url = `https://${hostname}/?${query}`;
  return `k8s-aws-v1.${Buffer.from(url).toString("base64url")}`;
}

/**
 * Hands out a cached token and mints a new one once the cached one is 14 minutes old.
 * Concurrent callers during a re-mint share the same minting.
 */
export function eksTokenSource(
  request: Omit<EksTokenRequest, "now">,
  clock: () => Date = () => new Date(),
): () => Promise<string> {
  let current: { token: Promise<string>; mintedAt: number } | undefined;
  return () => {
    const now = clock();
    if (!current || now.getTime() - current.mintedAt >= EKS_TOKEN_REFRESH_MS) {
      const token = mintEksToken({ ...request, now });
      current = { token, mintedAt: now.getTime() };
      // A failed mint must not be cached.
      token.catch(() => {
        if (current?.token === token) current = undefined;
      });
    }
    return current.token;
  };
}
