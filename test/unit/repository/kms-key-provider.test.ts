import { CreateKeyCommand, type KMSClient } from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKmsClient } from "../../../functions/lib/aws/clients.ts";
import { KeyUnwrapFailed } from "../../../functions/lib/repository/errors.ts";
import { FilesystemBlobStore } from "../../../functions/lib/repository/filesystem-blob-store.ts";
import { KmsKeyProvider } from "../../../functions/lib/repository/kms-key-provider.ts";
import { openRepository } from "../../../functions/lib/repository/repository.ts";
import { type MotoServer, startMoto } from "../../env/moto.ts";
import { tempDirectory } from "./fixtures.ts";

let moto: MotoServer;
let kms: KMSClient;

beforeAll(async () => {
  moto = await startMoto();
  kms = createKmsClient(moto);
});
afterAll(async () => {
  await moto?.stop();
});

async function createKey(): Promise<string> {
  const created = await kms.send(new CreateKeyCommand({ Description: "kubeferry test" }));
  return created.KeyMetadata?.Arn ?? "";
}

describe("KMS key provider (moto)", () => {
  it("generates the repository key once, stores it only wrapped, and unwraps it later", async () => {
    const keyId = await createKey();
    const store = new FilesystemBlobStore(await tempDirectory());
    const first = await new KmsKeyProvider({ kms, keyId, repository: "pair-a", store }).repositoryKey();
    expect(first).toHaveLength(32);
    const wrapped = (await store.get("keys/repository-key.json"))?.toString() ?? "";
    expect(wrapped).toContain(keyId);
    expect(wrapped).not.toContain(first.toString("base64"));
    expect(await new KmsKeyProvider({ kms, keyId, repository: "pair-a", store }).repositoryKey()).toEqual(
      first,
    );
  });

  it("gives simultaneous first users one key", async () => {
    const keyId = await createKey();
    const store = new FilesystemBlobStore(await tempDirectory());
    const keys = await Promise.all(
      [1, 2, 3].map(() => new KmsKeyProvider({ kms, keyId, repository: "pair-a", store }).repositoryKey()),
    );
    for (const key of keys) expect(key).toEqual(keys[0]);
  });

  it("refuses a wrapped key under another repository's encryption context, naming repository and key", async () => {
    const keyId = await createKey();
    const store = new FilesystemBlobStore(await tempDirectory());
    await new KmsKeyProvider({ kms, keyId, repository: "pair-a", store }).repositoryKey();
    const error = await new KmsKeyProvider({ kms, keyId, repository: "pair-b", store })
      .repositoryKey()
      .catch((caught) => caught);
    expect(error).toBeInstanceOf(KeyUnwrapFailed);
    expect(error.name).toBe("KeyUnwrapFailed");
    expect(error.message).toContain("repository pair-b");
    expect(error.message).toContain(keyId);
    expect(error.message).toContain("InvalidCiphertextException");
  });

  it("refuses to unwrap with another KMS key, naming both keys", async () => {
    const keyId = await createKey();
    const otherKeyId = await createKey();
    const store = new FilesystemBlobStore(await tempDirectory());
    await new KmsKeyProvider({ kms, keyId, repository: "pair-a", store }).repositoryKey();
    const opening = openRepository({
      name: "pair-a",
      store,
      keyProvider: new KmsKeyProvider({ kms, keyId: otherKeyId, repository: "pair-a", store }),
    });
    await expect(opening).rejects.toThrow(KeyUnwrapFailed);
    await expect(opening).rejects.toThrow(`cannot unwrap the repository key with KMS key ${otherKeyId}`);
    await expect(opening).rejects.toThrow(`wrapped with ${keyId}`);
  });
});
