import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, rmSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { createS3Client } from "../../functions/lib/aws/clients.ts";
import { kubeferryCacheDir } from "./cache-dir.ts";
import { freeLoopbackPorts } from "./free-ports.ts";
import { buildInto, requiredVersion } from "./go-build.ts";
import { isAlive, killProcessGroupsNow, onProcessExit, stopProcessGroups } from "./process-groups.ts";

/** A MinIO server on loopback: the production S3 implementation the data path stages into. */
export interface MinioServer {
  server: "minio";
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Created at start; every other bucket is the caller's to create. */
  bucket: string;
  /** The server's own folder (data, certificates, HOME); stop() removes it. */
  workDir: string;
  stop(): Promise<void>;
}

const minioModule = "github.com/minio/minio";
const region = "us-east-1";
const readyTimeoutMs = 60_000;

/** Returns the MinIO server binary, building it from test/env/go/minio on first use. */
export async function ensureMinioBinary(
  log: (line: string) => void = (line) => console.error(line),
): Promise<string> {
  const version = await requiredVersion("minio", minioModule);
  const dir = join(kubeferryCacheDir(), "bin", `minio-${version}`);
  const binary = join(dir, "minio");
  if (!existsSync(dir)) {
    await buildInto({
      dir,
      builds: [{ module: "minio", packages: [minioModule], ldflags: versionStamp(version) }],
      tag: "[minio]",
      hint: "delete the Go module cache entry it names and retry",
      log,
    });
  }
  if (!existsSync(binary))
    throw new Error(`the MinIO cache ${dir} lacks minio; delete the folder to rebuild`);
  return binary;
}

/**
 * MinIO prints its version and judges its own age from these; a module-proxy build would say
 * DEVELOPMENT.GOGET. The pseudo-version carries the commit's time and id.
 */
function versionStamp(version: string): string {
  const match = /^0\.0\.0-(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})-([0-9a-f]{12})$/.exec(version);
  if (!match) throw new Error(`test/env/go/minio/go.mod must pin ${minioModule} at a pseudo-version`);
  const [, y, mo, d, h, mi, s, commit] = match;
  const variable = (name: string, value: string) => `-X github.com/minio/minio/cmd.${name}=${value}`;
  return [
    "-s -w",
    variable("Version", `${y}-${mo}-${d}T${h}:${mi}:${s}Z`),
    variable("ReleaseTag", `DEVELOPMENT.${y}-${mo}-${d}T${h}-${mi}-${s}Z`),
    variable("CommitID", commit as string),
    variable("ShortCommitID", commit as string),
    variable("CopyrightYear", y as string),
  ].join(" ");
}

// The server watches the process that started it: an exit hook cannot run when that process is
// SIGKILLed, and a server left behind would hold its port and data folder ($1, removed then).
const orphanGuard = `dir=$1
shift
"$@" &
server=$!
while kill -0 "$PPID" 2>/dev/null && kill -0 "$server" 2>/dev/null; do sleep 0.5; done
kill "$server" 2>/dev/null
wait "$server"
kill -0 "$PPID" 2>/dev/null || rm -rf "$dir"`;

/**
 * Starts MinIO on a free loopback port with its own data folder (removed by stop()), fresh root
 * credentials and `bucket` created, and waits until it reports itself ready.
 */
export async function startMinio(options: { bucket?: string } = {}): Promise<MinioServer> {
  const binary = await ensureMinioBinary();
  const bucket = options.bucket ?? "kubeferry-staging";
  const [port, consolePort] = await freeLoopbackPorts(2);
  const endpoint = `http://127.0.0.1:${port}`;
  const workDir = await mkdtemp(join(tmpdir(), "kubeferry-minio-"));
  const credentials = { accessKeyId: "kubeferry", secretAccessKey: randomBytes(18).toString("base64url") };

  const child = spawn(
    "sh",
    [
      "-c",
      orphanGuard,
      "minio-guard",
      workDir,
      binary,
      "server",
      "--quiet",
      "--address",
      `127.0.0.1:${port}`,
      "--console-address",
      `127.0.0.1:${consolePort}`,
      // Otherwise certificates are looked for (and the folder made) under ~/.minio.
      "--certs-dir",
      join(workDir, "certs"),
      join(workDir, "data"),
    ],
    {
      detached: true,
      stdio: ["ignore", "ignore", "pipe"],
      env: {
        PATH: process.env.PATH,
        HOME: workDir,
        MINIO_ROOT_USER: credentials.accessKeyId,
        MINIO_ROOT_PASSWORD: credentials.secretAccessKey,
        MINIO_SITE_REGION: region,
        // Nothing leaves the machine: no update check, no call-home, no web console.
        MINIO_UPDATE: "off",
        MINIO_CALLHOME_ENABLE: "off",
        MINIO_BROWSER: "off",
      },
    },
  );
  const pid = child.pid as number;
  let stderrTail = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderrTail = (stderrTail + chunk).slice(-4000);
  });
  child.unref();
  (child.stderr as Socket | null)?.unref();
  const forget = onProcessExit(() => {
    killProcessGroupsNow([pid]);
    rmSync(workDir, { recursive: true, force: true });
  });
  const stop = async () => {
    forget();
    await stopProcessGroups([pid]);
    await rm(workDir, { recursive: true, force: true });
  };

  try {
    await waitUntilReady(endpoint, pid, () => stderrTail);
    // A copy: the SDK marks the credentials object it is given.
    await createS3Client({ endpoint, region, credentials: { ...credentials } }).send(
      new CreateBucketCommand({ Bucket: bucket }),
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { server: "minio", endpoint, region, credentials, bucket, workDir, stop };
}

async function waitUntilReady(endpoint: string, pid: number, stderr: () => string): Promise<void> {
  const deadline = Date.now() + readyTimeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) throw new Error(`MinIO exited before it was ready:\n${stderr()}`);
    const ready = await fetch(`${endpoint}/minio/health/ready`, { signal: AbortSignal.timeout(1000) }).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) return;
    await sleep(100);
  }
  throw new Error(`MinIO was not ready at ${endpoint} within ${readyTimeoutMs / 1000} s:\n${stderr()}`);
}
