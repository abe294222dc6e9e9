import { spawn } from "node:child_process";
import { ExecFailed } from "../../../functions/lib/errors.ts";
import type { ExecTarget, PodExec, ScriptRun } from "../../../functions/lib/volumes/pod-exec.ts";

/**
 * The PodExec contract without a cluster: runs each script with `sh -c` on this host, the pod's
 * device being a file (as on the local clusters, where KWOK runs exec on the host). Same
 * success rule as the Kubernetes transport: exit 0 and empty stderr.
 */
export class HostShellExec implements PodExec {
  stdoutBytes = 0;
  stdinBytes = 0;

  /** `path`: the PATH scripts run with, e.g. a stripped image's tools (default: this process's). */
  constructor(
    private readonly devices: Map<string, string>,
    private readonly path = process.env.PATH,
  ) {}

  run(target: ExecTarget, run: ScriptRun): Promise<Buffer> {
    const device = this.devices.get(target.pod);
    if (device === undefined) throw new Error(`no device for pod ${target.pod}`);
    return new Promise((resolve, reject) => {
      const child = spawn("sh", ["-c", run.script], {
        env: { PATH: this.path, KUBEFERRY_DEVICE: device },
      });
      const out: Buffer[] = [];
      let err = "";
      child.stdout.on("data", (b: Buffer) => out.push(b));
      child.stderr.on("data", (b: Buffer) => {
        err += b.toString();
      });
      child.on("error", reject);
      child.on("close", (code) => {
        if (code !== 0 || err !== "") reject(new ExecFailed(`${run.what}: exit ${code}: ${err}`));
        else {
          const stdout = Buffer.concat(out);
          this.stdoutBytes += stdout.length;
          resolve(stdout);
        }
      });
      child.stdin.on("error", () => {});
      if (run.stdin) {
        this.stdinBytes += run.stdin.length;
        child.stdin.write(run.stdin);
      }
      // Left open on purpose: scripts must not wait for the end of stdin.
    });
  }
}

export function target(pod: string): ExecTarget {
  return { cluster: "host", namespace: "ns", pod, container: "helper", volume: `volume of ${pod}` };
}
