import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureCsiDriverBinary, ensureCsiSanityBinary } from "./csi-driver-binary.ts";
import { csiDriverCommand, startCsiDriver } from "./csi-driver-process.ts";

// Runs csi-sanity against the test CSI driver in each of its configurations.

export interface SanityConfiguration {
  name: string;
  mode: "block" | "directory";
  /** csi-sanity's --csi.testvolumeaccesstype. */
  accessType: "mount" | "block";
  /** StorageClass parameters of the test volumes. */
  parameters: Record<string, string>;
  volumeSize: number;
}

const mib = 1024 * 1024;

export const sanityConfigurations: SanityConfiguration[] = [
  {
    name: "block mode, Filesystem volumes",
    mode: "block",
    accessType: "mount",
    parameters: {},
    volumeSize: 64 * mib,
  },
  {
    name: "block mode, Block volumes",
    mode: "block",
    accessType: "block",
    parameters: {},
    volumeSize: 64 * mib,
  },
  // Zonal sizes are whole GiB, so the suite's exact-size checks need a whole-GiB test size.
  {
    name: "block mode, zonal Filesystem volumes",
    mode: "block",
    accessType: "mount",
    parameters: { zonal: "true" },
    volumeSize: 1024 * mib,
  },
  // Snapshots that are not ready at first make the suite poll CreateSnapshot, as csi-snapshotter does.
  {
    name: "block mode, thick Block volumes with slow snapshots",
    mode: "block",
    accessType: "block",
    parameters: { thick: "true", snapshotDelaySeconds: "2" },
    volumeSize: 4 * mib,
  },
  { name: "directory mode", mode: "directory", accessType: "mount", parameters: {}, volumeSize: 64 * mib },
];

export interface SanityResult {
  name: string;
  passed: boolean;
  /** csi-sanity's summary line ("SUCCESS! -- 71 Passed | …"). */
  summary: string;
  /** csi-sanity's whole output, for a failure report. */
  output: string;
}

export async function runCsiSanity(
  configuration: SanityConfiguration,
  log: (line: string) => void = (line) => console.error(line),
): Promise<SanityResult> {
  const [driver, sanity] = [await ensureCsiDriverBinary(log), await ensureCsiSanityBinary(log)];
  const dir = await mkdtemp(join(tmpdir(), "kubeferry-csi-sanity-"));
  const root = join(dir, "root");
  const driverLog: string[] = [];
  const running = await startCsiDriver({
    binary: driver,
    socket: join(dir, "csi.sock"),
    driverName: `${configuration.mode}.csi.kubeferry.dev`,
    root,
    mode: configuration.mode,
    nodeId: "sanity-node",
    zone: "zone-a",
    zones: ["zone-a", "zone-b", "zone-c"],
    log: (line) => driverLog.push(line),
  });
  try {
    const parametersFile = join(dir, "parameters.yaml");
    await writeFile(parametersFile, JSON.stringify(configuration.parameters));
    const output = await runSanity(sanity, [
      `--csi.endpoint=${join(dir, "csi.sock")}`,
      `--csi.mountdir=${join(dir, "mount")}`,
      `--csi.stagingdir=${join(dir, "staging")}`,
      `--csi.testvolumeaccesstype=${configuration.accessType}`,
      `--csi.testvolumesize=${configuration.volumeSize}`,
      `--csi.testvolumeexpandsize=${2 * configuration.volumeSize}`,
      `--csi.testvolumeparameters=${parametersFile}`,
      "--ginkgo.no-color",
    ]);
    const summary =
      output.text.match(/^(SUCCESS|FAIL)!.*$/m)?.[0] ?? "no summary line (csi-sanity did not finish)";
    return { name: configuration.name, passed: output.code === 0, summary, output: output.text };
  } finally {
    await running.stop();
    // The suite's own cleanup unpublishes what it published; node-cleanup removes what a failure left.
    await csiDriverCommand(driver, ["node-cleanup", `--root=${root}`]);
    await rm(dir, { recursive: true, force: true });
  }
}

function runSanity(binary: string, args: string[]): Promise<{ code: number; text: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
    let text = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      text += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      text += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, text }));
  });
}
