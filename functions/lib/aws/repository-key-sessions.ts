import { KMSClient, type KMSClientConfig } from "@aws-sdk/client-kms";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";

/** The session tag whose value the repository key role's policy compares with the encryption context. */
export const repositoryTagKey = "kubeferry-repository";

/** Renew a session this long before it expires, so no call is signed with credentials about to lapse. */
const renewBeforeMs = 5 * 60_000;

/**
 * A KMS client per repository, signed with a session of the repository key role tagged with
 * that repository: the role may use the key only with an encryption context naming the session's
 * own repository (`kms:EncryptionContext:kubeferry:repository` = `${aws:PrincipalTag/kubeferry-repository}`),
 * so credentials obtained for pair A cannot unwrap pair B's key, whichever code holds them.
 */
export function repositoryKmsClients(
  roleArn: string,
  /** Where the calls go (endpoint, region): the SDK's own chain by default. */
  target: { sts?: STSClient; kms?: KMSClientConfig } = {},
): (repository: string) => KMSClient {
  const sts = target.sts ?? new STSClient({});
  const clients = new Map<string, KMSClient>();
  return (repository) => {
    let client = clients.get(repository);
    if (client === undefined) {
      client = new KMSClient({ ...target.kms, credentials: taggedSession(sts, roleArn, repository) });
      clients.set(repository, client);
    }
    return client;
  };
}

function taggedSession(sts: STSClient, roleArn: string, repository: string) {
  let current:
    | { accessKeyId: string; secretAccessKey: string; sessionToken: string; expiration: Date }
    | undefined;
  return async () => {
    if (current && current.expiration.getTime() - Date.now() > renewBeforeMs) return current;
    const { Credentials } = await sts.send(
      new AssumeRoleCommand({
        RoleArn: roleArn,
        // Session names allow [\w+=,.@-] up to 64 characters; pair names are DNS labels (≤ 63).
        RoleSessionName: `kf-${repository}`.slice(0, 64),
        Tags: [{ Key: repositoryTagKey, Value: repository }],
        DurationSeconds: 3600,
      }),
    );
    if (!Credentials?.AccessKeyId || !Credentials.SecretAccessKey || !Credentials.SessionToken) {
      throw new Error(`STS AssumeRole of ${roleArn} for repository ${repository} returned no credentials`);
    }
    current = {
      accessKeyId: Credentials.AccessKeyId,
      secretAccessKey: Credentials.SecretAccessKey,
      sessionToken: Credentials.SessionToken,
      expiration: Credentials.Expiration ?? new Date(Date.now() + 3_600_000),
    };
    return current;
  };
}
