import { randomBytes } from "node:crypto";
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { mapBounded } from "../functions/lib/bounded-map.ts";
import { MiB, mibPerSecond, timed } from "./measure.ts";

export interface S3Ceiling {
  put_mib_s: number;
  get_mib_s: number;
}

/**
 * What the S3 server allows on this machine, measured with the AWS SDK in the same run as the
 * figures it frames: many parallel PUTs, then GETs, of 4 MiB objects (the default chunk size),
 * with nothing else done per object. The objects are deleted afterwards.
 */
export async function measureS3Ceiling(
  s3: S3Client,
  bucket: string,
  { objects = 64, parallel = 16 }: { objects?: number; parallel?: number } = {},
): Promise<S3Ceiling> {
  const body = randomBytes(4 * MiB);
  const keys = Array.from({ length: objects }, (_, i) => `s3-ceiling/${i}`);
  const put = await timed(() =>
    mapBounded(keys, parallel, (Key) => s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: body }))),
  );
  const get = await timed(() =>
    mapBounded(keys, parallel, async (Key) => {
      const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key }));
      return (await response.Body?.transformToByteArray())?.length;
    }),
  );
  await mapBounded(keys, parallel, (Key) => s3.send(new DeleteObjectCommand({ Bucket: bucket, Key })));
  const bytes = objects * body.length;
  return { put_mib_s: mibPerSecond(bytes, put.seconds), get_mib_s: mibPerSecond(bytes, get.seconds) };
}
