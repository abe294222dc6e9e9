import { KMSClient } from "@aws-sdk/client-kms";
import { S3Client } from "@aws-sdk/client-s3";

/** Where AWS calls go: unset fields fall back to the SDK's own chain (environment, profile, role). */
export interface AwsTarget {
  /** A local server such as moto, e.g. http://127.0.0.1:5000. */
  endpoint?: string;
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/** The configuration shared by every client; pass it to any SDK v3 client constructor. */
export function awsClientConfig(target: AwsTarget = {}) {
  return {
    ...(target.endpoint !== undefined && { endpoint: target.endpoint }),
    ...(target.region !== undefined && { region: target.region }),
    ...(target.credentials !== undefined && { credentials: target.credentials }),
  };
}

export function createS3Client(target: AwsTarget = {}): S3Client {
  // Local servers answer on one host name, not per-bucket virtual hosts.
  return new S3Client({ ...awsClientConfig(target), forcePathStyle: target.endpoint !== undefined });
}

export function createKmsClient(target: AwsTarget = {}): KMSClient {
  return new KMSClient(awsClientConfig(target));
}
