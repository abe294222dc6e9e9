import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { watchForCancel } from "../../cli/local-cancel.ts";
import { run } from "./run-cli.ts";

let home: string;
let previousHome: string | undefined;
beforeEach(() => {
  previousHome = process.env.KUBEFERRY_HOME;
  home = mkdtempSync(join(tmpdir(), "kubeferry-cancel-"));
  process.env.KUBEFERRY_HOME = home;
});
afterEach(() => {
  rmSync(home, { recursive: true, force: true });
  if (previousHome === undefined) delete process.env.KUBEFERRY_HOME;
  else process.env.KUBEFERRY_HOME = previousHome;
});

it("cancels a local run: the process running it aborts it, and cancel returns once that run has ended", async () => {
  let aborted = 0;
  let stop: () => Promise<void> = async () => {};
  // What runLocally does around an execution: abort, then the compensation, then the marker goes.
  stop = await watchForCancel(home, "kf-run-1", () => {
    aborted += 1;
    setTimeout(() => void stop(), 300);
  });
  expect(existsSync(join(home, "running", "kf-run-1.json"))).toBe(true);
  const { code, stdout } = await run(["cancel", "kf-run-1"]);
  expect(code).toBe(0);
  expect(aborted).toBe(1);
  expect(stdout).toContain("run kf-run-1 cancelled");
  expect(existsSync(join(home, "running", "kf-run-1.json"))).toBe(false);
  expect(existsSync(join(home, "running", "kf-run-1.cancel"))).toBe(false);
});

it("a run no local process runs is one line naming it, exit 2", async () => {
  const { code, stderr } = await run(["cancel", "kf-nothing"]);
  expect(code).toBe(2);
  expect(stderr.trim()).toBe(
    'kubeferry cancel: no local run named "kf-nothing" is running (kubeferry status lists the runs)',
  );
});

it("--remote needs the execution ARN or the state machine, exit 2", async () => {
  const previous = process.env.KUBEFERRY_STATE_MACHINE_ARN;
  delete process.env.KUBEFERRY_STATE_MACHINE_ARN;
  try {
    const { code, stderr } = await run(["cancel", "kf-run-1", "--remote"]);
    expect(code).toBe(2);
    expect(stderr).toContain("--state-machine");
  } finally {
    if (previous !== undefined) process.env.KUBEFERRY_STATE_MACHINE_ARN = previous;
  }
});
