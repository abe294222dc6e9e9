import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import {
  PROGRESS_LINE,
  withoutProgress,
  withProgress,
} from "../../../functions/lib/volumes/exec-progress.ts";

/** Runs a script under busybox sh, as the helper pod does, timing when each stderr line came. */
function run(script: string) {
  return new Promise<{
    code: number | null;
    stdout: string;
    stderr: string;
    progressAt: number[];
    ms: number;
  }>((resolve, reject) => {
    const start = performance.now();
    const child = spawn("busybox", ["sh", "-c", script]);
    let stdout = "";
    let stderr = "";
    const progressAt: number[] = [];
    child.stdout.on("data", (b: Buffer) => {
      stdout += b.toString();
    });
    child.stderr.on("data", (b: Buffer) => {
      stderr += b.toString();
      for (const line of b.toString().split("\n")) {
        if (line === PROGRESS_LINE) progressAt.push(performance.now() - start);
      }
    });
    child.on("error", reject);
    // "close": every holder of the pipes is gone, as when an exec stream ends.
    child.on("close", (code) => resolve({ code, stdout, stderr, progressAt, ms: performance.now() - start }));
  });
}

describe("withProgress", () => {
  it("prints a progress line on stderr at the interval while the script is silent, stdout untouched", async () => {
    const r = await run(withProgress("sleep 1.1; echo result", 0.2));
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("result\n");
    expect(r.progressAt.length).toBeGreaterThanOrEqual(4);
    const gaps = r.progressAt.map((t, i) => t - (r.progressAt[i - 1] ?? 0));
    expect(Math.max(...gaps)).toBeLessThan(600);
    expect(withoutProgress(r.stderr)).toBe("");
  });

  it("ends the stream when the script ends, keeping its exit status and its own stderr", async () => {
    const quick = await run(withProgress("echo fast", 5));
    expect(quick).toMatchObject({ code: 0, stdout: "fast\n", stderr: "" });
    expect(quick.ms).toBeLessThan(2000); // not held open by the loop's 5 s sleep
    const failing = await run(withProgress("set -eu\necho broken >&2\nexit 3", 5));
    expect(failing.code).toBe(3);
    expect(withoutProgress(failing.stderr).trim()).toBe("broken");
    expect(failing.ms).toBeLessThan(2000);
    const setE = await run(withProgress("set -eu\nfalse\necho unreachable", 5));
    expect(setE).toMatchObject({ code: 1, stdout: "" });
  });

  it("refuses an interval that is not a positive number", () => {
    expect(() => withProgress("true", 0)).toThrow(/progress interval/);
    expect(() => withProgress("true", Number.NaN)).toThrow(/progress interval/);
  });
});

describe("withoutProgress", () => {
  it("drops exactly the progress lines", () => {
    expect(withoutProgress(`${PROGRESS_LINE}\ndd: error\n${PROGRESS_LINE}\n`)).toBe("dd: error\n");
    expect(withoutProgress(`x ${PROGRESS_LINE}\n`)).toBe(`x ${PROGRESS_LINE}\n`);
  });
});
