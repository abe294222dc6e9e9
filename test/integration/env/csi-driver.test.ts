import { execFile } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { mkdir, mkdtemp, open, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ensureCsiDriverBinary } from "../../env/csi-driver-binary.ts";
import { csiDriverCommand } from "../../env/csi-driver-process.ts";
import { wrapperModulesDir } from "../../env/go-build.ts";

const exec = promisify(execFile);

/** Mount points as /proc/self/mountinfo lists them (octal escapes undone). */
function mountPoints(): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) =>
      (line.split(" ")[4] ?? "").replace(/\\([0-7]{3})/g, (_, octal) =>
        String.fromCharCode(Number.parseInt(octal, 8)),
      ),
    );
}

/** Loop devices backed by the image, as `losetup -j` shows them. */
async function loopsOf(image: string): Promise<string[]> {
  const { stdout } = await exec("losetup", ["--associated", image, "--noheadings", "--output", "NAME"]);
  return stdout.split("\n").filter(Boolean);
}

describe("the test CSI driver's contract beyond csi-sanity", () => {
  it("passes its Go tests (thick, zonal, directory-mode Block refusal, slow snapshots, fs types, restarts)", {
    timeout: 300_000,
  }, async () => {
    const { stdout } = await exec("go", ["test", "-count=1", "./..."], {
      cwd: join(wrapperModulesDir, "csi-driver"),
      env: { ...process.env, GOFLAGS: "-mod=mod -buildvcs=false" },
    }).catch((error: { stdout?: string; stderr?: string }) => {
      throw new Error(`go test of test/env/go/csi-driver failed:\n${error.stdout}\n${error.stderr}`);
    });
    expect(stdout).toMatch(/^ok\s/m);
  });
});

describe("the test CSI driver's node commands", () => {
  let driver: string;
  let dir: string;
  let root: string;

  const image = (id: string) => join(root, "volumes", `${id}.img`);
  const node = (...args: string[]) => csiDriverCommand(driver, args);

  /** A fresh thin volume as the controller leaves it: a blank image of 32 MiB. */
  async function blankImage(id: string): Promise<string> {
    await mkdir(join(root, "volumes"), { recursive: true });
    await writeFile(image(id), "");
    await exec("truncate", ["--size=32M", image(id)]);
    return image(id);
  }

  beforeAll(async () => {
    driver = await ensureCsiDriverBinary();
  });
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "kubeferry-csi-node-"));
    root = join(dir, "root");
  });
  afterEach(async () => {
    await node("node-cleanup", `--root=${root}`);
    await rm(dir, { recursive: true, force: true });
  });

  it("formats a blank Filesystem volume with its fs type once, mounts it, and unpublishing leaves no mount and no loop device", async () => {
    await blankImage("fs-1");
    const target = join(dir, "pod", "data");
    const publish = [
      "node-publish",
      `--root=${root}`,
      "--mode=block",
      "--volume-id=fs-1",
      `--target=${target}`,
      "--fs-type=ext3",
    ];
    expect(await node(...publish)).toBe(target);
    expect(mountPoints()).toContain(target);
    const { stdout: fsType } = await exec("blkid", [
      "--probe",
      "--match-tag",
      "TYPE",
      "--output",
      "value",
      image("fs-1"),
    ]);
    expect(fsType.trim()).toBe("ext3");
    await writeFile(join(target, "kept.txt"), "written through the mount");

    await node("node-unpublish", `--root=${root}`, "--volume-id=fs-1", `--target=${target}`);
    expect(mountPoints()).not.toContain(target);
    expect(await loopsOf(image("fs-1"))).toEqual([]);
    await node("node-unpublish", `--root=${root}`, "--volume-id=fs-1", `--target=${target}`);

    // Published again, the filesystem is found and kept, not formatted again.
    await node(...publish);
    expect(await readFile(join(target, "kept.txt"), "utf8")).toBe("written through the mount");
  });

  it("publishes a Block volume as a loop device of its image, read-only when asked", async () => {
    await blankImage("raw-1");
    const target = join(dir, "pod", "device");
    const device = await node(
      "node-publish",
      `--root=${root}`,
      "--volume-id=raw-1",
      `--target=${target}`,
      "--block",
    );
    expect(device).toMatch(/^\/dev\/loop\d+$/);
    expect(statSync(device).isBlockDevice()).toBe(true);
    expect(await loopsOf(image("raw-1"))).toEqual([device]);
    expect(mountPoints()).toContain(target);
    const handle = await open(device, "r+");
    await handle.write(Buffer.from("bytes through the device"), 0, 24, 4096);
    await handle.close();

    const readOnlyTarget = join(dir, "pod", "device-ro");
    const readOnly = await node(
      "node-publish",
      `--root=${root}`,
      "--volume-id=raw-1",
      `--target=${readOnlyTarget}`,
      "--block",
      "--readonly",
    );
    expect(readOnly).not.toBe(device);
    const readOnlyHandle = await open(readOnly, "r+");
    await expect(readOnlyHandle.write(Buffer.from("x"), 0, 1, 0)).rejects.toThrow(/EPERM|EROFS/);
    await readOnlyHandle.close();

    await node("node-unpublish", `--root=${root}`, "--volume-id=raw-1", `--target=${target}`);
    await node("node-unpublish", `--root=${root}`, "--volume-id=raw-1", `--target=${readOnlyTarget}`);
    expect(await loopsOf(image("raw-1"))).toEqual([]);
    expect(mountPoints().filter((path) => path.startsWith(dir))).toEqual([]);
    const bytes = await readFile(image("raw-1"));
    expect(bytes.subarray(4096, 4096 + 24).toString()).toBe("bytes through the device");
  });

  it("node-cleanup unmounts and detaches everything below its root", async () => {
    await blankImage("fs-2");
    await blankImage("raw-2");
    await node("node-publish", `--root=${root}`, "--volume-id=fs-2", `--target=${join(dir, "a")}`);
    await node("node-publish", `--root=${root}`, "--volume-id=fs-2", `--target=${join(dir, "b")}`);
    await node(
      "node-publish",
      `--root=${root}`,
      "--volume-id=raw-2",
      `--target=${join(dir, "c")}`,
      "--block",
    );
    expect(mountPoints().filter((path) => path.startsWith(dir))).toHaveLength(3);

    await node("node-cleanup", `--root=${root}`);
    expect(mountPoints().filter((path) => path.startsWith(dir))).toEqual([]);
    expect([...(await loopsOf(image("fs-2"))), ...(await loopsOf(image("raw-2")))]).toEqual([]);
  });

  it("publishes concurrently, as the node shim does, with one loop device per volume", async () => {
    const ids = ["c-1", "c-2", "c-3"];
    for (const id of ids) await blankImage(id);
    const publishes = ids.flatMap((id) =>
      ["x", "y"].map((target) =>
        node("node-publish", `--root=${root}`, `--volume-id=${id}`, `--target=${join(dir, id, target)}`),
      ),
    );
    await Promise.all(publishes);
    for (const id of ids) expect(await loopsOf(image(id))).toHaveLength(1);
    expect(mountPoints().filter((path) => path.startsWith(dir))).toHaveLength(6);
  });

  it("bind-mounts a directory-mode volume and refuses to publish it as a device", async () => {
    await mkdir(join(root, "volumes", "files-1"), { recursive: true });
    const target = join(dir, "pod", "files");
    const publish = ["node-publish", `--root=${root}`, "--mode=directory", "--volume-id=files-1"];
    expect(await node(...publish, `--target=${target}`)).toBe(target);
    await writeFile(join(target, "note.txt"), "in the volume's directory");
    await node("node-unpublish", `--root=${root}`, "--volume-id=files-1", `--target=${target}`);
    expect(await readFile(join(root, "volumes", "files-1", "note.txt"), "utf8")).toBe(
      "in the volume's directory",
    );
    await expect(node(...publish, `--target=${join(dir, "dev")}`, "--block")).rejects.toThrow(
      /files-1 is a directory: it has no block device/,
    );
  });

  it("fails with a one-line message naming a volume that does not exist", async () => {
    await mkdir(root, { recursive: true });
    const failure = node(
      "node-publish",
      `--root=${root}`,
      "--volume-id=missing-9",
      `--target=${join(dir, "t")}`,
    );
    await expect(failure).rejects.toThrow(
      /exit 1\): kubeferry-csi-driver node-publish: volume "missing-9" does not exist below/,
    );
  });
});
