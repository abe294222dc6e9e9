import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { ListBucketsCommand } from "@aws-sdk/client-s3";
import { describe, expect, it } from "vitest";
import { createS3Client } from "../../../functions/lib/aws/clients.ts";
import { waitFor } from "../../env/clusters.ts";
import { startMinio } from "../../env/minio.ts";
import { processesMentioning } from "./leftover-processes.ts";

const fixture = join(import.meta.dirname, "fixtures", "start-minio.ts");
const tsxLoader = createRequire(import.meta.url).resolve("tsx");

describe("MinIO in the test environment", () => {
  it("answers on loopback with its own credentials, refuses others, and stop() leaves nothing", async () => {
    const minio = await startMinio({ bucket: "staging" });
    const buckets = await createS3Client(minio).send(new ListBucketsCommand({}));
    expect(buckets.Buckets?.map((bucket) => bucket.Name)).toEqual(["staging"]);
    const stranger = createS3Client({
      ...minio,
      credentials: { accessKeyId: "kubeferry", secretAccessKey: "not-the-password" },
    });
    await expect(stranger.send(new ListBucketsCommand({}))).rejects.toThrow(/signature/i);
    await minio.stop();
    expect(processesMentioning(minio.workDir)).toEqual([]);
    expect(existsSync(minio.workDir)).toBe(false);
  });

  it("goes, with its data folder, when the process that started it is SIGKILLed", async () => {
    const child = spawn(process.execPath, ["--import", tsxLoader, fixture], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const exited = new Promise((resolve) => child.once("exit", resolve));
    let started: { workDir: string } | undefined;
    for await (const line of createInterface({ input: child.stdout })) {
      started = JSON.parse(line);
      break;
    }
    const workDir = started?.workDir as string;
    expect(existsSync(workDir)).toBe(true);
    expect(processesMentioning(workDir).length).toBeGreaterThanOrEqual(1);
    child.kill("SIGKILL");
    await exited;
    await waitFor(
      "MinIO and its folder to be gone",
      async () => {
        return processesMentioning(workDir).length === 0 && !existsSync(workDir);
      },
      10_000,
    );
  });
});
