import { existsSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface HostProcess {
  pid: number;
  commandLine: string;
}

export function processesMentioning(path: string): HostProcess[] {
  const found: HostProcess[] = [];
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    let commandLine: string;
    try {
      commandLine = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").trim();
    } catch {
      continue; // exited while we looked
    }
    if (commandLine.includes(path)) found.push({ pid, commandLine });
  }
  return found;
}

/**
 * Processes of test environments that no longer exist: a control plane component or a MinIO server
 * whose folder (a `kubeferry-env-*` or `kubeferry-minio-*` folder under the temp dir, deleted by
 * `stop()`) is gone has been left behind by a test.
 */
export function orphanedEnvironmentProcesses(): HostProcess[] {
  return ["kubeferry-env-", "kubeferry-minio-"].flatMap((name) => {
    const prefix = join(tmpdir(), name);
    return processesMentioning(prefix).filter((candidate) => {
      const rest = candidate.commandLine.slice(candidate.commandLine.indexOf(prefix) + prefix.length);
      const envDir = prefix + rest.split(/[/\s]/)[0];
      return !existsSync(envDir);
    });
  });
}
