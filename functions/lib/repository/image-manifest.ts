import { z } from "zod";

export const defaultChunkSize = 4 * 1024 * 1024;

/** A volume image: fixed-size chunks in order, null for an all-zero chunk (a hole, no object). */
export const imageManifestSchema = z
  .object({
    chunkSize: z.number().int().positive(),
    size: z.number().int().nonnegative(),
    /**
     * Hex digest of the whole image. Volumes staged from helper pods carry the volume digest of
     * volumes/volume-digest.ts (SHA-256 over the geometry and the ordered chunk SHA-256s); images
     * written by writeImage still carry the SHA-256 of their bytes (readImage checks that one).
     */
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    chunks: z.array(
      z
        .string()
        .regex(/^[0-9a-f]{64}$/)
        .nullable(),
    ),
  })
  .refine((image) => image.chunks.length === Math.ceil(image.size / image.chunkSize), {
    message: "chunks must cover size in chunkSize steps",
  });

export type ImageManifest = z.infer<typeof imageManifestSchema>;
