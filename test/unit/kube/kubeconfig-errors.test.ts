import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ValidationError } from "../../../functions/lib/errors.ts";
import { loadKubeConfig } from "../../../functions/lib/kube/client/cluster-source.ts";

const sentinel = "SENTINEL-TOKEN-8d1f0c";
// Malformed where the token sits: a YAML parser's message quotes the lines around the fault.
const malformed = [
  "apiVersion: v1",
  "users:",
  "- name: u",
  "  user:",
  `    token: ${sentinel}`,
  `    token: ${sentinel}-again`,
  "",
].join("\n");

describe("a malformed kubeconfig", () => {
  it("given as text is refused with the fault's position, never the lines around it", async () => {
    const load = loadKubeConfig({ kind: "kubeconfig", text: malformed }, {}, "onprem");
    await expect(load).rejects.toBeInstanceOf(ValidationError);
    const error = (await load.catch((caught: unknown) => caught)) as Error;
    expect(error.message).toMatch(
      /^cluster onprem: the given kubeconfig is not a valid kubeconfig: .* at line 6, column 5$/,
    );
    expect(error.message).not.toContain(sentinel);
  });

  it("in a file is refused the same way", async () => {
    const dir = await mkdtemp(join(tmpdir(), "kubeferry-kubeconfig-"));
    try {
      const path = join(dir, "config");
      await writeFile(path, malformed);
      const error = (await loadKubeConfig({ kind: "kubeconfigFile", path }, {}, "onprem").catch(
        (caught: unknown) => caught,
      )) as Error;
      expect(error).toBeInstanceOf(ValidationError);
      expect(error.message).toContain(`kubeconfig ${path} is not a valid kubeconfig`);
      expect(error.message).not.toContain(sentinel);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
