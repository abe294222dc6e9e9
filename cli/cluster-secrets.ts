import {
  CreateSecretCommand,
  DeleteSecretCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { KubeConfig } from "@kubernetes/client-node";
import { clusterSecretPrefix } from "../functions/lib/workflow/environment.ts";
import { UsageError } from "./command.ts";

/**
 * Registered clusters for runs in AWS: Secrets Manager secrets under kubeferry/clusters/,
 * the only secrets the Lambda functions may read. A kubeconfig is stored reduced to the one
 * context it is registered with.
 */
export type ClusterSecret =
  | { kubeconfig: string; context?: string }
  | { type: "eks"; cluster: string; region: string };

export async function putClusterSecret(name: string, secret: ClusterSecret): Promise<void> {
  const client = new SecretsManagerClient({});
  const value =
    "type" in secret ? JSON.stringify(secret) : oneContextKubeconfig(secret.kubeconfig, secret.context);
  const id = `${clusterSecretPrefix}${name}`;
  try {
    await client.send(
      new CreateSecretCommand({ Name: id, SecretString: value, Description: `kubeferry cluster ${name}` }),
    );
  } catch (error) {
    if ((error as Error).name !== "ResourceExistsException") throw error;
    await client.send(new PutSecretValueCommand({ SecretId: id, SecretString: value }));
  }
}

export async function listClusterSecrets(): Promise<string[]> {
  const client = new SecretsManagerClient({});
  const names: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListSecretsCommand({ Filters: [{ Key: "name", Values: [clusterSecretPrefix] }], NextToken: token }),
    );
    for (const secret of page.SecretList ?? []) {
      if (secret.Name?.startsWith(clusterSecretPrefix))
        names.push(secret.Name.slice(clusterSecretPrefix.length));
    }
    token = page.NextToken;
  } while (token);
  return names.sort();
}

/** Deleted with a 7-day recovery window: a mistyped name can be restored. */
export async function deleteClusterSecret(name: string): Promise<void> {
  await new SecretsManagerClient({}).send(
    new DeleteSecretCommand({ SecretId: `${clusterSecretPrefix}${name}`, RecoveryWindowInDays: 7 }),
  );
}

function oneContextKubeconfig(path: string, context?: string): string {
  const full = new KubeConfig();
  full.loadFromFile(path);
  if (context) full.setCurrentContext(context);
  const current = full.getContextObject(full.getCurrentContext());
  const cluster = full.getCurrentCluster();
  const user = full.getCurrentUser();
  if (!current || !cluster || !user)
    throw new Error(`${path}: context "${full.getCurrentContext()}" is incomplete`);
  // A Lambda function has no kubectl plugins and no cloud CLI: such a user would fail every run.
  const helper = user.exec
    ? `exec plugin "${user.exec.command}"`
    : user.authProvider
      ? "auth-provider"
      : undefined;
  if (helper !== undefined) {
    throw new UsageError(
      `${path}: user "${user.name}" of context "${current.name}" authenticates with an ${helper}, which cannot ` +
        "run in Lambda; register an EKS cluster with --eks-cluster NAME --region REGION (IAM tokens), or use a " +
        "kubeconfig whose user has a token or a client certificate",
    );
  }
  const reduced = new KubeConfig();
  reduced.loadFromOptions({
    clusters: [cluster],
    users: [user],
    contexts: [current],
    currentContext: current.name,
  });
  return reduced.exportConfig();
}
