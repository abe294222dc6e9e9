import { spawnSync } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { progress, run } from "./measure.ts";

/** The Debian restic; installed on the spot when the bench runs as root on Debian, else explained. */
export async function ensureRestic(): Promise<string> {
  if (spawnSync("restic", ["version"]).status === 0) return resticVersion();
  const canInstall = process.getuid?.() === 0 && spawnSync("apt-get", ["--version"]).status === 0;
  if (!canInstall) {
    throw new Error(
      "restic is not installed; install it with: sudo apt-get update && sudo apt-get install -y restic",
    );
  }
  progress("installing restic from Debian (apt-get install -y restic)");
  await run("apt-get", ["update", "-qq"]);
  await run("apt-get", ["install", "-y", "-qq", "restic"], { DEBIAN_FRONTEND: "noninteractive" });
  return resticVersion();
}

async function resticVersion(): Promise<string> {
  return (await run("restic", ["version"])).stdout.trim();
}

export class ResticRepository {
  private readonly env: NodeJS.ProcessEnv;

  constructor(
    readonly path: string,
    cacheDirectory: string,
  ) {
    this.env = { RESTIC_PASSWORD: "kubeferry-bench", RESTIC_CACHE_DIR: cacheDirectory };
  }

  async init(): Promise<void> {
    await run("restic", ["init", "--repo", this.path], this.env);
  }

  async backup(file: string): Promise<void> {
    await run("restic", ["backup", "--repo", this.path, "--quiet", file], this.env);
  }

  async restore(target: string): Promise<void> {
    await mkdir(target, { recursive: true });
    await run("restic", ["restore", "latest", "--repo", this.path, "--target", target], this.env);
  }
}
