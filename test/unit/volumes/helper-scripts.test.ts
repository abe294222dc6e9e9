import { spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseHashLines } from "../../../functions/lib/volumes/hash-lines.ts";
import {
  deviceSizeCheckScript,
  hashChunksScript,
  readBytesScript,
  writeBytesScript,
  writeZerosScript,
} from "../../../functions/lib/volumes/helper-scripts.ts";

const dir = mkdtempSync(join(tmpdir(), "kf-scripts-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The scripts run in a busybox helper pod and, on the local clusters, on the host: run them
// under both tool sets. For busybox, a PATH of nothing but busybox applets makes sure no host
// tool stands in. busybox comes from Debian's busybox-static, which `npm run env:prepare` installs.
const busybox = spawnSync("sh", ["-c", "command -v busybox"]).stdout.toString().trim();
const shells: [string, string[], string][] = [["dash+coreutils", ["sh"], process.env.PATH ?? ""]];
if (busybox) {
  const bin = join(dir, "busybox-bin");
  mkdirSync(bin);
  for (const applet of ["sh", "dd", "sha256sum", "wc", "echo", "cat"])
    symlinkSync(busybox, join(bin, applet));
  shells.push(["busybox", [join(bin, "sh")], bin]);
} else {
  // Never a skip: without busybox the scripts are not tested with the helper image's tools.
  it("finds busybox", () => {
    expect.fail("busybox is not installed: run `npm run env:prepare` (it installs Debian's busybox-static)");
  });
}

const chunk = 64 * 1024;
const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

function run(shell: string[], path: string, device: string | undefined, script: string, stdin?: Buffer) {
  const [cmd, ...args] = shell as [string, ...string[]];
  const env = { PATH: path, ...(device === undefined ? {} : { KUBEFERRY_DEVICE: device }) };
  const r = spawnSync(cmd, [...args, "-c", script], { env, input: stdin, maxBuffer: 64 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

/** The processes below `pid` that have `path` open (busybox runs dd as a forked applet: no own cmdline). */
function descendantsHolding(pid: number, path: string): number[] {
  const children = (parent: number): number[] =>
    spawnSync("pgrep", ["-P", String(parent)])
      .stdout.toString()
      .split("\n")
      .filter(Boolean)
      .map(Number)
      .flatMap((child) => [child, ...children(child)]);
  return children(pid).filter((candidate) => {
    try {
      return readdirSync(`/proc/${candidate}/fd`).some(
        (fd) => readlinkSync(`/proc/${candidate}/fd/${fd}`) === path,
      );
    } catch {
      return false;
    }
  });
}

describe.runIf(busybox)("the read-back after a write, under busybox", () => {
  // A dd in front of busybox's: it logs each call's arguments, and refuses O_DIRECT (EINVAL,
  // as a device without it does) when told to. The host's sh runs the script: busybox's runs its
  // own applets and would never call the shim.
  function ddShim(refuseDirect: boolean): { bin: string; log: string } {
    const bin = mkdtempSync(join(dir, "dd-shim-"));
    const log = join(bin, "calls.log");
    for (const applet of ["sha256sum", "wc", "echo", "cat"]) symlinkSync(busybox, join(bin, applet));
    const refuse = refuseDirect
      ? 'case "$*" in *iflag=direct*) echo "dd: can\'t open: Invalid argument" >&2; exit 1;; esac\n'
      : "";
    writeFileSync(join(bin, "dd"), `#!/bin/sh\necho "$*" >> ${log}\n${refuse}exec ${busybox} dd "$@"\n`, {
      mode: 0o755,
    });
    return { bin, log };
  }

  it.each([
    ["reads the device with O_DIRECT, past the page cache the write filled", false],
    ["falls back to cached reads where the device refuses O_DIRECT", true],
  ])("%s", (_, refuseDirect) => {
    const { bin, log } = ddShim(refuseDirect);
    const target = join(dir, `direct-${refuseDirect}`);
    writeFileSync(target, Buffer.alloc(4 * chunk));
    const data = randomBytes(2 * chunk);
    const verify = { firstChunk: 1, chunkCount: 2, chunkBytes: chunk, volumeBytes: 4 * chunk };
    const r = run(["/bin/sh"], bin, target, writeBytesScript(chunk, data.length, verify), data);
    expect(r.stderr).toBe("");
    expect(parseHashLines(r.stdout.toString(), 1, 2, "test")).toEqual([
      sha(data.subarray(0, chunk)),
      sha(data.subarray(chunk)),
    ]);
    const hashReads = readFileSync(log, "utf8")
      .split("\n")
      .filter((call) => call.includes("skip=$i") || /skip=\d+ count=1/.test(call));
    expect(hashReads).toHaveLength(2);
    for (const call of hashReads) expect(call.includes("iflag=direct")).toBe(!refuseDirect);
  });
});

describe.runIf(busybox)("helper scripts under busybox, with a dd that gets killed", () => {
  it("fail instead of hashing what the dead dd read (pipefail)", async () => {
    // A device nobody writes to: dd blocks on it until it is killed, which prints nothing on stderr.
    const device = join(dir, "dev-fifo");
    spawnSync("mkfifo", [device]);
    // Held open for writing (O_RDWR does not block on a FIFO), so dd's open returns and its read blocks.
    const writer = openSync(device, "r+");
    const child = spawn(join(dir, "busybox-bin", "sh"), ["-c", hashChunksScript(0, 2, chunk, 2 * chunk)], {
      env: { PATH: join(dir, "busybox-bin"), KUBEFERRY_DEVICE: device },
    });
    let stderr = "";
    child.stderr.on("data", (data: Buffer) => {
      stderr += data.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    let killed = 0;
    // Without pipefail the loop goes on to the next chunk, whose dd blocks again: kill that one too.
    const killer = setInterval(() => {
      for (const pid of descendantsHolding(child.pid as number, device)) {
        process.kill(pid, "SIGKILL");
        killed++;
      }
      if (killed >= 2) child.kill("SIGKILL");
    }, 100);
    const code = await exited.finally(() => {
      clearInterval(killer);
      closeSync(writer);
    });
    expect(killed).toBe(1);
    // Both the exit status (pipefail) and busybox's "Killed" on stderr make the transport fail it.
    expect(code).not.toBe(0);
    expect(stderr).toContain("Killed");
  });
});

describe.each(shells)("helper scripts under %s", (name, shell, path) => {
  // 5 whole chunks and a partial one: random, zero, repeated data.
  const volumeBytes = 5 * chunk + 12_288;
  const image = Buffer.concat([randomBytes(chunk), Buffer.alloc(chunk), randomBytes(3 * chunk + 12_288)]);
  image.copy(image, 3 * chunk, 0, chunk);
  const device = join(dir, `dev-${name}`);
  writeFileSync(device, image);

  it("hashes every chunk of a range, the partial last chunk exactly", () => {
    const r = run(shell, path, device, hashChunksScript(2, 4, chunk, volumeBytes));
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const digests = parseHashLines(r.stdout.toString(), 2, 4, "test");
    const expected = [2, 3, 4, 5].map((i) =>
      sha(image.subarray(i * chunk, Math.min((i + 1) * chunk, volumeBytes))),
    );
    expect(digests).toEqual(expected);
    expect(digests[1]).toBe(sha(image.subarray(0, chunk)));
  });

  it("hashes a range of whole chunks only", () => {
    const r = run(shell, path, device, hashChunksScript(0, 2, chunk, volumeBytes));
    expect(parseHashLines(r.stdout.toString(), 0, 2, "test")).toEqual([
      sha(image.subarray(0, chunk)),
      sha(Buffer.alloc(chunk)),
    ]);
  });

  it("reads exact bytes at any offset", () => {
    const r = run(shell, path, device, readBytesScript(chunk - 7, chunk + 100));
    expect(r.stderr).toBe("");
    expect(Buffer.compare(r.stdout, image.subarray(chunk - 7, 2 * chunk + 93))).toBe(0);
  });

  it("writes exact bytes at an offset without waiting for the end of stdin, then hashes them", async () => {
    const target = join(dir, `w-${name}`);
    writeFileSync(target, Buffer.alloc(volumeBytes));
    const data = randomBytes(chunk + 12_288);
    const script = writeBytesScript(4 * chunk, data.length, {
      firstChunk: 4,
      chunkCount: 2,
      chunkBytes: chunk,
      volumeBytes,
    });
    const [cmd, ...args] = shell as [string, ...string[]];
    const child = spawn(cmd, [...args, "-c", script], { env: { PATH: path, KUBEFERRY_DEVICE: target } });
    const out: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    // Send the exact bytes plus trailing garbage and never close stdin: the script must finish.
    child.stdin.write(Buffer.concat([data, Buffer.from("garbage")]));
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    child.stdin.destroy();
    expect(code).toBe(0);
    const written = readFileSync(target);
    expect(written.length).toBe(volumeBytes);
    expect(Buffer.compare(written.subarray(4 * chunk), data)).toBe(0);
    expect(written.subarray(0, 4 * chunk).every((b) => b === 0)).toBe(true);
    expect(parseHashLines(Buffer.concat(out).toString(), 4, 2, "test")).toEqual([
      sha(data.subarray(0, chunk)),
      sha(data.subarray(chunk)),
    ]);
  });

  it("writes zeros in place", () => {
    const target = join(dir, `z-${name}`);
    writeFileSync(target, image);
    const r = run(
      shell,
      path,
      target,
      writeZerosScript(chunk, 2 * chunk, { firstChunk: 1, chunkCount: 2, chunkBytes: chunk, volumeBytes }),
    );
    expect(r.stderr).toBe("");
    const written = readFileSync(target);
    expect(written.length).toBe(volumeBytes);
    expect(written.subarray(chunk, 3 * chunk).every((b) => b === 0)).toBe(true);
    expect(Buffer.compare(written.subarray(3 * chunk), image.subarray(3 * chunk))).toBe(0);
    expect(parseHashLines(r.stdout.toString(), 1, 2, "test")).toEqual([
      sha(Buffer.alloc(chunk)),
      sha(Buffer.alloc(chunk)),
    ]);
  });

  it("checks that the device is long enough", () => {
    expect(run(shell, path, device, deviceSizeCheckScript(volumeBytes)).stdout.toString()).toBe("ok\n");
    const short = run(shell, path, device, deviceSizeCheckScript(volumeBytes + 1));
    expect(short.status).not.toBe(0);
    expect(short.stderr).toContain(`shorter than ${volumeBytes + 1} bytes`);
  });

  it("reports a missing device on stderr", () => {
    const missing = run(shell, path, join(dir, "nope"), hashChunksScript(0, 1, chunk, volumeBytes));
    expect(missing.stderr).not.toBe("");
    const unset = run(shell, path, undefined, readBytesScript(0, 10));
    expect(unset.status).not.toBe(0);
    expect(unset.stderr).toContain("KUBEFERRY_DEVICE");
  });
});
