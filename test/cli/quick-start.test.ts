import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");

it("the quick start's `npm run demo -- --json` ends with a verified, Successful report", {
  timeout: 900_000,
}, async () => {
  const { stdout } = await promisify(execFile)("npm", ["run", "--silent", "demo", "--", "--json"], {
    cwd: root,
    maxBuffer: 64 * 1024 * 1024,
  });
  const report = JSON.parse(stdout.trim().split("\n").at(-1) as string);
  expect(report.status).toBe("Successful");
  expect(report.volumes).toHaveLength(2);
  for (const volume of report.volumes)
    expect(volume).toMatchObject({ verified: true, bytes: expect.any(Number) });
  expect(report.objects).toMatchObject({ Created: expect.any(Number) });
  expect(report.duration_s).toBeGreaterThan(0);
});
