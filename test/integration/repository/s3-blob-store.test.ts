import { CreateBucketCommand, type S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll } from "vitest";
import { createS3Client } from "../../../functions/lib/aws/clients.ts";
import { S3BlobStore } from "../../../functions/lib/repository/s3-blob-store.ts";
import { type MotoServer, startMoto } from "../../env/moto.ts";
import { describeBlobStoreContract } from "./blob-store.contract.ts";

let moto: MotoServer;
let client: S3Client;
let stores = 0;

beforeAll(async () => {
  moto = await startMoto();
  client = createS3Client(moto);
  await client.send(new CreateBucketCommand({ Bucket: "contract" }));
});
afterAll(async () => {
  await moto?.stop();
});

// Each test gets its own prefix, so the bucket's other objects must stay invisible to it.
describeBlobStoreContract(
  "S3 (moto)",
  async () => new S3BlobStore({ client, bucket: "contract", prefix: `store-${++stores}/` }),
);
