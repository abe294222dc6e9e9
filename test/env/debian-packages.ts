import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

/**
 * Makes sure `path` exists, installing Debian's `pkg` (as root, from the Debian mirror this
 * machine reaches) when it does not. For host tools the local reality needs: the stock helper
 * image's busybox, and the mkfs of each filesystem the test driver formats.
 */
export function ensureDebianPackage(pkg: string, path: string, log: (line: string) => void): void {
  if (existsSync(path)) return;
  log(`[env] ${path} is missing: installing Debian's ${pkg}`);
  for (const args of [["update"], ["install", "-y", pkg]]) {
    const result = spawnSync("apt-get", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    if (result.status !== 0) {
      throw new Error(
        `apt-get ${args.join(" ")} failed (${result.error?.message ?? `exit ${result.status}`}): ` +
          `install it yourself (apt-get install ${pkg}, as root) so that ${path} exists.\n${result.stderr ?? ""}`,
      );
    }
  }
  if (!existsSync(path)) throw new Error(`${pkg} is installed but ${path} is missing; reinstall the package`);
}
