import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readdir, rename, rm, symlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { kubeferryCacheDir } from "./cache-dir.ts";
import { ensureDebianPackage } from "./debian-packages.ts";

/** busybox and a folder holding nothing but its applets: the PATH of commands exec'd into pods. */
export interface Busybox {
  binary: string;
  appletsDir: string;
}

const debianBinary = "/bin/busybox";

/**
 * Returns busybox and its applet folder, installing Debian's `busybox-static` first when
 * /bin/busybox is missing. The stock helper image has busybox only, so pods on the local
 * clusters must not see the host's GNU tools.
 */
export async function ensureBusybox(
  log: (line: string) => void = (line) => console.error(line),
): Promise<Busybox> {
  ensureDebianPackage("busybox-static", debianBinary, log);
  const version = busyboxVersion();
  const appletsDir = join(kubeferryCacheDir(), "busybox", version, "bin");
  if (!existsSync(appletsDir)) await createAppletsDir(appletsDir);
  return { binary: debianBinary, appletsDir };
}

function busyboxVersion(): string {
  const banner = spawnSync(debianBinary, [], { encoding: "utf8" }).stdout ?? "";
  const version = banner.match(/BusyBox v(\S+)/)?.[1];
  if (!version) throw new Error(`${debianBinary} printed no "BusyBox v…" banner; is it really busybox?`);
  return version;
}

async function createAppletsDir(appletsDir: string): Promise<void> {
  await mkdir(dirname(appletsDir), { recursive: true });
  // Fill a staging folder and rename it, so a half-filled folder never passes for the real one.
  const staging = await mkdtemp(`${appletsDir}.building-`);
  try {
    const install = spawnSync(debianBinary, ["--install", "-s", staging], { encoding: "utf8" });
    if (install.status !== 0) throw new Error(`busybox --install -s ${staging} failed: ${install.stderr}`);
    await chmod(staging, 0o755);
    await rename(staging, appletsDir).catch(async (error: NodeJS.ErrnoException) => {
      if (error.code !== "ENOTEMPTY" && error.code !== "EEXIST") throw error;
      await rm(staging, { recursive: true, force: true });
    });
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}

/**
 * A folder of busybox's applets less `missing`, with Debian's dash as `sh`: the tools of a
 * stripped-down image, for a test pod that must find one missing. (busybox's own sh would still
 * run the missing applet: Debian builds it as a standalone shell, which prefers its applets to
 * PATH.) Kept beside the full folder, built once.
 */
export async function appletsWithout(missing: string): Promise<string> {
  const { appletsDir } = await ensureBusybox();
  const dir = `${appletsDir}-dash-without-${missing}`;
  if (existsSync(dir)) return dir;
  const staging = await mkdtemp(`${dir}.building-`);
  for (const applet of await readdir(appletsDir)) {
    if (applet === missing) continue;
    await symlink(applet === "sh" ? "/bin/dash" : join(appletsDir, applet), join(staging, applet));
  }
  await chmod(staging, 0o755);
  await rename(staging, dir).catch(async (error: NodeJS.ErrnoException) => {
    if (error.code !== "ENOTEMPTY" && error.code !== "EEXIST") throw error;
    await rm(staging, { recursive: true, force: true });
  });
  return dir;
}
