import { describe, expect, it } from "vitest";
import { ExecFailed } from "../../../functions/lib/errors.ts";
import type { ClusterClient } from "../../../functions/lib/kube/client/cluster-client.ts";
import { type ExecHook, runHooks } from "../../../functions/lib/volumes/hooks.ts";
import type { CommandExec } from "../../../functions/lib/volumes/pod-exec.ts";

const clientWith = (items: unknown[]) =>
  ({ name: "source", request: async () => ({ body: { items } }) }) as unknown as ClusterClient;
const db0 = {
  metadata: { name: "db-0" },
  spec: { containers: [{ name: "postgres" }] },
  status: { phase: "Running" },
};
const exec: CommandExec = {
  async runCommand() {
    return { stdout: "", stderr: "", exitCode: 0 };
  },
};
const freeze: ExecHook = {
  podSelector: "app=db",
  container: "postgres",
  command: ["fsfreeze", "-f", "/data"],
};

describe("a hook whose target is missing", () => {
  it("fails when no Running pod matches its selector, naming the selector", async () => {
    const run = runHooks(clientWith([]), exec, "shop", "pre", [freeze]);
    await expect(run).rejects.toBeInstanceOf(ExecFailed);
    await expect(run).rejects.toThrow(/no Running pod in namespace shop matches podSelector "app=db"/);
  });

  it("fails when the pod has no such container, naming the containers it has", async () => {
    const run = runHooks(clientWith([db0]), exec, "shop", "pre", [{ ...freeze, container: "db" }]);
    await expect(run).rejects.toThrow(/pod shop\/db-0 has no container db \(it has: postgres\)/);
  });

  it('is recorded and skipped with onError: "continue"', async () => {
    const outcomes = await runHooks(clientWith([]), exec, "shop", "post", [
      { ...freeze, onError: "continue" },
    ]);
    expect(outcomes).toEqual([
      expect.objectContaining({ succeeded: false, problem: expect.stringMatching(/no Running pod/) }),
    ]);
  });

  it("runs where pod and container exist", async () => {
    const outcomes = await runHooks(clientWith([db0]), exec, "shop", "pre", [freeze]);
    expect(outcomes).toEqual([expect.objectContaining({ pod: "db-0", succeeded: true })]);
  });
});
