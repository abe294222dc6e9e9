import { CreateKeyCommand } from "@aws-sdk/client-kms";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, expect, it } from "vitest";
import { awsClientConfig, createKmsClient } from "../../../functions/lib/aws/clients.ts";
import { repositoryKmsClients } from "../../../functions/lib/aws/repository-key-sessions.ts";
import { FilesystemBlobStore } from "../../../functions/lib/repository/filesystem-blob-store.ts";
import { KmsKeyProvider } from "../../../functions/lib/repository/kms-key-provider.ts";
import { type MotoServer, startMoto } from "../../env/moto.ts";
import { tempDirectory } from "../../unit/repository/fixtures.ts";

let moto: MotoServer;

beforeAll(async () => {
  moto = await startMoto();
});
afterAll(async () => {
  await moto?.stop();
});

// moto enforces no IAM policy: what a tagged session may do is asserted on the template
// (test/infra/repository-key.test.ts); this proves each repository's calls are made on its own session.
it("signs each repository's KMS calls with a session of the key role named after that repository", async () => {
  const roleArn = "arn:aws:iam::123456789012:role/kubeferry-repository-key";
  const config = awsClientConfig(moto);
  const sts = new STSClient(config);
  const kmsFor = repositoryKmsClients(roleArn, {
    sts,
    kms: { endpoint: moto.endpoint, region: moto.region },
  });
  const keyId =
    (await createKmsClient(moto).send(new CreateKeyCommand({ Description: "kubeferry test" }))).KeyMetadata
      ?.Arn ?? "";

  const store = new FilesystemBlobStore(await tempDirectory());
  const key = await new KmsKeyProvider({
    kms: kmsFor("pair-a"),
    keyId,
    repository: "pair-a",
    store,
  }).repositoryKey();
  expect(key).toHaveLength(32);
  expect(kmsFor("pair-a")).toBe(kmsFor("pair-a"));

  for (const pair of ["pair-a", "pair-b"]) {
    const credentials = await kmsFor(pair).config.credentials();
    const identity = await new STSClient({ ...config, credentials }).send(new GetCallerIdentityCommand({}));
    expect(identity.Arn).toBe(`arn:aws:sts::123456789012:assumed-role/kubeferry-repository-key/kf-${pair}`);
  }
});
