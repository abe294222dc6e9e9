import { describe, expect, it } from "vitest";
import { ExecFailed } from "../../../functions/lib/errors.ts";
import type { ClusterClient } from "../../../functions/lib/kube/client/cluster-client.ts";
import { runHooks } from "../../../functions/lib/volumes/hooks.ts";
import type { CommandExec } from "../../../functions/lib/volumes/pod-exec.ts";

const runningPods = ["db-0", "db-1", "db-2"].map((name) => ({
  metadata: { name },
  spec: { containers: [{ name: "db" }, { name: "metrics" }] },
  status: { phase: "Running" },
}));
const client = {
  name: "source",
  request: async () => ({ body: { items: runningPods } }),
} as unknown as ClusterClient;
const hook = { podSelector: "app=db", container: "db", command: ["sleep", "1"], timeoutSeconds: 60 };

describe("a hook phase's time budget", () => {
  it("gives each command at most the time left in the phase", async () => {
    const timeouts: number[] = [];
    const exec: CommandExec = {
      async runCommand(_target, _command, timeoutMs) {
        timeouts.push(timeoutMs);
        return { stdout: "", stderr: "", exitCode: 0 };
      },
    };
    await runHooks(client, exec, "shop", "pre", [hook], Date.now() + 5_000);
    expect(timeouts).toHaveLength(3);
    for (const timeout of timeouts) expect(timeout).toBeLessThanOrEqual(5_000);
  });

  it("fails naming the pod that could not run once the budget is used up", async () => {
    let calls = 0;
    const exec: CommandExec = {
      async runCommand() {
        calls++;
        return { stdout: "", stderr: "", exitCode: 0 };
      },
    };
    const run = runHooks(client, exec, "shop", "pre", [hook], Date.now() - 1);
    await expect(run).rejects.toBeInstanceOf(ExecFailed);
    await expect(run).rejects.toThrow(/time budget .* pod shop\/db-0/);
    expect(calls).toBe(0);
  });
});
