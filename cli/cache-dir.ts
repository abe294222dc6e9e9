import { homedir } from "node:os";
import { join } from "node:path";

/** Root of everything kubeferry keeps between runs (the synthesized workflow, test binaries). */
export function kubeferryCacheDir(): string {
  return process.env.KUBEFERRY_CACHE_DIR ?? join(homedir(), ".cache", "kubeferry");
}
