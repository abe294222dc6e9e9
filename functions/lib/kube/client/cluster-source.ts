import { existsSync } from "node:fs";
import { GetSecretValueCommand, type SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { KubeConfig } from "@kubernetes/client-node";
import { z } from "zod";
import { ValidationError } from "../../errors.ts";
import { type ClusterClient, type ClusterClientOptions, createClusterClient } from "./cluster-client.ts";
import type { DescribeEksCluster } from "./eks-cluster.ts";
import { type AwsCredentialsProvider, eksTokenSource } from "./eks-token.ts";

/** An EKS cluster, reached with tokens minted from the caller's AWS identity. */
const eksCluster = { cluster: z.string().min(1), region: z.string().min(1) };
/** The form a Secrets Manager secret holds when it names an EKS cluster instead of a kubeconfig. */
const eksReferenceSchema = z.strictObject({ type: z.literal("eks"), ...eksCluster });

/**
 * Where a cluster's connection comes from. These are references, safe to store: a kubeconfig
 * file on the machine running the CLI, a Secrets Manager secret (holding a kubeconfig or an EKS
 * reference), or an EKS cluster directly.
 */
export const clusterSourceSchema = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("kubeconfigFile"),
    path: z.string().min(1),
    context: z.string().min(1).optional(),
  }),
  z.strictObject({ kind: z.literal("secret"), secretId: z.string().min(1) }),
  z.strictObject({ kind: z.literal("eks"), ...eksCluster }),
]);

/** Kubeconfig text is accepted in-process (CLI, tests) but never stored: it holds credentials. */
export type ClusterSource =
  | z.infer<typeof clusterSourceSchema>
  | { kind: "kubeconfig"; text: string; context?: string };

export interface ClusterConnectDeps {
  secretsManager?: SecretsManagerClient;
  /** For EKS secrets: resolves the cluster endpoint and CA. */
  describeEksCluster?: DescribeEksCluster;
  /** For EKS secrets: the identity whose tokens EKS maps to Kubernetes users. */
  awsCredentials?: AwsCredentialsProvider;
  clock?: () => Date;
}

/** Opens a client for the cluster registered as `options.name`. Errors name the cluster and source. */
export async function connectCluster(
  source: ClusterSource,
  deps: ClusterConnectDeps,
  options: ClusterClientOptions,
): Promise<ClusterClient> {
  return createClusterClient(await loadKubeConfig(source, deps, options.name), options);
}

export async function loadKubeConfig(
  source: ClusterSource,
  deps: ClusterConnectDeps,
  name: string,
): Promise<KubeConfig> {
  switch (source.kind) {
    case "kubeconfigFile": {
      if (!existsSync(source.path)) {
        throw new ValidationError(`cluster ${name}: kubeconfig file ${source.path} does not exist`);
      }
      const where = `cluster ${name}: kubeconfig ${source.path}`;
      // From the file, so that relative certificate paths resolve against its folder.
      const kubeConfig = parseKubeConfig(where, (config) => config.loadFromFile(source.path));
      return selectContext(kubeConfig, source.context, where);
    }
    case "kubeconfig":
      return kubeConfigFromText(source.text, source.context, `cluster ${name}: the given kubeconfig`);
    case "secret":
      return kubeConfigFromSecret(source.secretId, deps, name);
    case "eks":
      return eksKubeConfig(
        source.cluster,
        source.region,
        deps,
        `cluster ${name}: EKS cluster ${source.cluster}`,
      );
  }
}

async function kubeConfigFromSecret(
  secretId: string,
  deps: ClusterConnectDeps,
  name: string,
): Promise<KubeConfig> {
  const where = `cluster ${name}: secret ${secretId}`;
  if (!deps.secretsManager) throw new Error(`${where}: no Secrets Manager client was given`);
  const { SecretString: text } = await deps.secretsManager.send(
    new GetSecretValueCommand({ SecretId: secretId }),
  );
  if (!text)
    throw new ValidationError(`${where} has no SecretString; store a kubeconfig or an EKS reference as text`);
  const json = parseJsonObject(text);
  if (json?.type === undefined) return kubeConfigFromText(text, undefined, where);
  const eks = eksReferenceSchema.safeParse(json);
  if (!eks.success) {
    const issue = eks.error.issues[0];
    throw new ValidationError(
      `${where}: field "${issue?.path.join(".") || "type"}" ${issue?.message ?? "is invalid"}; expected {"type":"eks","cluster":"<name>","region":"<region>"}`,
    );
  }
  return eksKubeConfig(eks.data.cluster, eks.data.region, deps, where);
}

/** The name of the kubeconfig user whose requests carry minted EKS tokens. */
const EKS_USER = "kubeferry-eks-token";

async function eksKubeConfig(cluster: string, region: string, deps: ClusterConnectDeps, where: string) {
  if (!deps.describeEksCluster || !deps.awsCredentials) {
    throw new Error(`${where}: EKS access needs describeEksCluster and awsCredentials dependencies`);
  }
  const endpoint = await deps.describeEksCluster(cluster, region);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: cluster, server: endpoint.server, caData: endpoint.caData, skipTLSVerify: false }],
    users: [{ name: EKS_USER }],
    contexts: [{ name: cluster, cluster, user: EKS_USER }],
    currentContext: cluster,
  });
  const token = eksTokenSource({ cluster, region, credentials: deps.awsCredentials }, deps.clock);
  kubeConfig.addAuthenticator({
    isAuthProvider: (user) => user.name === EKS_USER,
    applyAuthentication: async (_user, options) => {
      options.headers = { ...options.headers, Authorization: `Bearer ${await token()}` };
    },
  });
  return kubeConfig;
}

function kubeConfigFromText(text: string, context: string | undefined, where: string): KubeConfig {
  return selectContext(
    parseKubeConfig(where, (config) => config.loadFromString(text)),
    context,
    where,
  );
}

function parseKubeConfig(where: string, load: (kubeConfig: KubeConfig) => void): KubeConfig {
  const kubeConfig = new KubeConfig();
  try {
    load(kubeConfig);
  } catch (error) {
    throw new ValidationError(`${where} is not a valid kubeconfig: ${withoutQuotedSource(error)}`);
  }
  return kubeConfig;
}

/**
 * A YAML parser's message quotes the lines around the fault, and in a kubeconfig those lines are
 * tokens and keys; only the reason and the position are kept.
 */
function withoutQuotedSource(error: unknown): string {
  const { reason, mark } = error as { reason?: unknown; mark?: { line?: unknown; column?: unknown } };
  if (typeof reason === "string" && typeof mark?.line === "number" && typeof mark.column === "number") {
    return `${reason} at line ${mark.line + 1}, column ${mark.column + 1}`;
  }
  return (error as Error).message;
}

function selectContext(kubeConfig: KubeConfig, context: string | undefined, where: string): KubeConfig {
  const wanted = context ?? kubeConfig.getCurrentContext();
  if (!wanted || !kubeConfig.getContextObject(wanted)) {
    const known = kubeConfig.getContexts().map((candidate) => candidate.name);
    throw new ValidationError(
      `${where} has no context "${wanted ?? ""}"; choose one of: ${known.join(", ") || "(none)"}`,
    );
  }
  kubeConfig.setCurrentContext(wanted);
  return kubeConfig;
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
