import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { defaultProvider } from "@aws-sdk/credential-provider-node";
import type { ClusterConnectDeps } from "../kube/client/cluster-source.ts";
import { describeEksClusterWith } from "../kube/client/eks-cluster.ts";

/**
 * Cluster access through AWS: Secrets Manager for registered clusters, and for EKS clusters
 * the caller's own AWS identity (Lambda role, CLI profile) to describe the cluster and mint
 * tokens. Endpoints and region come from the SDK's chain (AWS_ENDPOINT_URL for local servers).
 */
export function awsClusterConnectDeps(): ClusterConnectDeps {
  const credentials = defaultProvider();
  const endpoint = process.env.AWS_ENDPOINT_URL_EKS ?? process.env.AWS_ENDPOINT_URL;
  return {
    secretsManager: new SecretsManagerClient({}),
    describeEksCluster: describeEksClusterWith({ credentials, ...(endpoint ? { endpoint } : {}) }),
    awsCredentials: credentials,
  };
}
