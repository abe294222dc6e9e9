import { CreateBucketCommand, type S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe } from "vitest";
import { createS3Client } from "../../../functions/lib/aws/clients.ts";
import { S3BlobStore } from "../../../functions/lib/repository/s3-blob-store.ts";
import { startMinio } from "../../env/minio.ts";
import { startMoto } from "../../env/moto.ts";
import { describeBlobStoreContract } from "./blob-store.contract.ts";

interface S3Server {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  stop(): Promise<void>;
}

/** The contract on one S3 server; each test gets its own prefix, so the bucket's other objects must stay invisible to it. */
function describeS3Contract(name: string, start: () => Promise<S3Server>) {
  describe(name, () => {
    let server: S3Server | undefined;
    let client: S3Client;
    let stores = 0;
    beforeAll(async () => {
      server = await start();
      client = createS3Client(server);
      await client.send(new CreateBucketCommand({ Bucket: "contract" }));
    });
    afterAll(async () => {
      await server?.stop();
    });
    describeBlobStoreContract(
      `S3 (${name})`,
      async () => new S3BlobStore({ client, bucket: "contract", prefix: `store-${++stores}/` }),
    );
  });
}

describeS3Contract("moto", startMoto);
describeS3Contract("MinIO", startMinio);
