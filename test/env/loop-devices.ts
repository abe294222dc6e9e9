import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

// Volumes are published through loop devices. The kernel creates loop devices on demand
// (`losetup --find` asks /dev/loop-control for a free one), but without udev nobody creates their
// /dev nodes, so a container starts with /dev/loop0…7 only: too few for a cluster whose pods use
// a dozen volumes, shared by every test environment on the machine.

const wanted = 64;

/** Makes sure /dev/loop0…63 exist (block devices, major 7), creating the missing nodes. */
export function ensureLoopDeviceNodes(): void {
  for (let index = 0; index < wanted; index++) {
    const path = `/dev/loop${index}`;
    if (existsSync(path)) continue;
    const made = spawnSync("mknod", ["-m", "0600", path, "b", "7", String(index)], { encoding: "utf8" });
    // A concurrent environment may have created it between the check and mknod.
    if (made.status !== 0 && !existsSync(path)) {
      throw new Error(
        `cannot create ${path} (${made.stderr.trim() || made.error?.message}); the volumes of the local ` +
          "clusters need loop devices: run as root with CAP_MKNOD, or create /dev/loop0…63 yourself",
      );
    }
  }
}
