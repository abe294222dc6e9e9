import { homedir } from "node:os";
import { join } from "node:path";

/** Root of everything the test environment keeps between runs (binaries, env state). */
export function kubeferryCacheDir(): string {
  return process.env.KUBEFERRY_CACHE_DIR ?? join(homedir(), ".cache", "kubeferry");
}
