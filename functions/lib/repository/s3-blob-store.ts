import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { assertValidKey, type BlobInfo, type BlobStore } from "./blob-store.ts";
import { TransientError } from "./transient-errors.ts";

export interface S3BlobStoreOptions {
  client: S3Client;
  bucket: string;
  /** Key prefix of the repository, e.g. "kubeferry/onprem-to-west/"; empty for the bucket root. */
  prefix?: string;
}

/** Objects in one S3 bucket under a prefix. putIfAbsent is a PutObject with If-None-Match: *. */
export class S3BlobStore implements BlobStore {
  readonly location: string;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;

  constructor(options: S3BlobStoreOptions) {
    this.client = options.client;
    this.bucket = options.bucket;
    this.prefix = options.prefix ?? "";
    if (this.prefix !== "" && !this.prefix.endsWith("/")) {
      throw new Error(`S3 prefix ${JSON.stringify(this.prefix)} must end with "/"`);
    }
    this.location = `s3://${this.bucket}/${this.prefix}`;
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    await this.client.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key), Body: data }),
    );
  }

  async putIfAbsent(key: string, data: Uint8Array): Promise<boolean> {
    try {
      await this.client.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key), Body: data, IfNoneMatch: "*" }),
      );
      return true;
    } catch (error) {
      if (httpStatus(error) === 412) return false;
      throw error;
    }
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      const response = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }),
      );
      const bytes = (await response.Body?.transformToByteArray()) ?? new Uint8Array(0);
      const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      if (response.ContentLength !== undefined && data.length !== response.ContentLength) {
        throw new TransientError(
          `${this.location}${key}: read ${data.length} of ${response.ContentLength} bytes; the connection was cut`,
        );
      }
      return data;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async head(key: string): Promise<BlobInfo | undefined> {
    try {
      const response = await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }),
      );
      return { key, size: response.ContentLength ?? 0, lastModified: response.LastModified ?? new Date(0) };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async *list(prefix: string): AsyncIterable<BlobInfo> {
    let continuationToken: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: this.prefix + prefix,
          ContinuationToken: continuationToken,
        }),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key === undefined) continue;
        yield {
          key: object.Key.slice(this.prefix.length),
          size: object.Size ?? 0,
          lastModified: object.LastModified ?? new Date(0),
        };
      }
      continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (continuationToken !== undefined);
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
  }

  private objectKey(key: string): string {
    assertValidKey(key);
    return this.prefix + key;
  }
}

function httpStatus(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

function isNotFound(error: unknown): boolean {
  return httpStatus(error) === 404;
}
