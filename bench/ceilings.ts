import { MiB, mibPerSecond, round, run } from "./measure.ts";

/** What the machine can do at best, measured in the same run: one core of OpenSSL, and dd. */

export async function opensslMiBPerSecond(algorithm: string[]): Promise<number> {
  // One block size, the default chunk size, instead of openssl's ladder of small ones.
  const { stdout } = await run("openssl", [
    "speed",
    "-seconds",
    "2",
    "-bytes",
    String(4 * MiB),
    ...algorithm,
  ]);
  const lastLine = stdout.trim().split("\n").at(-1) ?? "";
  const kilobytesPerSecond = Number(/([\d.]+)k\s*$/.exec(lastLine)?.[1]);
  if (!Number.isFinite(kilobytesPerSecond)) throw new Error(`cannot parse openssl speed output: ${stdout}`);
  return round((kilobytesPerSecond * 1000) / MiB);
}

export async function ddReadMiBPerSecond(path: string, bytes: number): Promise<number> {
  const start = process.hrtime.bigint();
  await run("dd", [`if=${path}`, "of=/dev/null", "bs=4M"]);
  return mibPerSecond(bytes, Number(process.hrtime.bigint() - start) / 1e9);
}
