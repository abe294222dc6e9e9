import { randomBytes } from "node:crypto";
import { open } from "node:fs/promises";
import { MiB } from "./measure.ts";

/**
 * The benchmark volume: half random data, a quarter zeros, a quarter one 64 KiB block repeated,
 * laid out in 64 MiB stretches (random, zeros, random, repeated, ...) so that no kind of data is
 * only at one end of the file.
 */
export const imageSize = 1024 * MiB;
const stretch = 64 * MiB;
const pattern = ["random", "zeros", "random", "repeated"] as const;

export async function generateImage(path: string): Promise<void> {
  const repeatedBlock = randomBytes(64 * 1024);
  const repeated = Buffer.alloc(stretch);
  for (let offset = 0; offset < stretch; offset += repeatedBlock.length) repeatedBlock.copy(repeated, offset);
  const zeros = Buffer.alloc(stretch);

  const file = await open(path, "w");
  try {
    for (let index = 0; index < imageSize / stretch; index++) {
      const kind = pattern[index % pattern.length];
      await file.write(kind === "random" ? randomBytes(stretch) : kind === "zeros" ? zeros : repeated);
    }
  } finally {
    await file.close();
  }
}

/**
 * The incremental case: one contiguous 1% region overwritten with new random data, inside the
 * first random stretch and aligned to nothing.
 */
export async function overwriteOnePercent(path: string): Promise<{ offset: number; length: number }> {
  const offset = 5 * MiB + 12_345;
  const length = Math.round(imageSize / 100);
  const file = await open(path, "r+");
  try {
    await file.write(randomBytes(length), 0, length, offset);
  } finally {
    await file.close();
  }
  return { offset, length };
}
