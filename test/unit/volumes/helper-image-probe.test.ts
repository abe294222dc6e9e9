import { describe, expect, it } from "vitest";
import { ExecFailed } from "../../../functions/lib/errors.ts";
import { ProbeMismatch, runProbeScripts } from "../../../functions/lib/volumes/helper-image-probe.ts";
import type { ExecTarget, PodExec, ScriptRun } from "../../../functions/lib/volumes/pod-exec.ts";
import { appletsWithout, ensureBusybox } from "../../env/busybox.ts";
import { HostShellExec, target } from "./host-shell-exec.ts";

// The probe sets its own scratch device, so the host exec needs no device of its own.
const probeTarget = target("probe");
const devices = new Map([["probe", "/dev/null"]]);

/** A dd that ignores count_bytes on reads: it returns a whole extra block, as old dd builds do. */
class ReadPastExec implements PodExec {
  constructor(private readonly inner: PodExec) {}
  async run(where: ExecTarget, run: ScriptRun): Promise<Buffer> {
    const out = await this.inner.run(where, run);
    return run.what === "reading" ? Buffer.concat([out, Buffer.alloc(512)]) : out;
  }
}

describe("runProbeScripts", () => {
  it("passes on busybox, the default helper image's tools", async () => {
    const { appletsDir } = await ensureBusybox();
    await expect(
      runProbeScripts(new HostShellExec(devices, appletsDir), probeTarget),
    ).resolves.toBeUndefined();
  });

  it("fails on an image without sha256sum, naming it", async () => {
    const exec = new HostShellExec(devices, await appletsWithout("sha256sum"));
    const probe = runProbeScripts(exec, probeTarget);
    await expect(probe).rejects.toBeInstanceOf(ExecFailed);
    await expect(probe).rejects.toThrow(/sha256sum: not found/);
  });

  it("fails when a read returns more than the bytes asked for", async () => {
    const { appletsDir } = await ensureBusybox();
    const probe = runProbeScripts(new ReadPastExec(new HostShellExec(devices, appletsDir)), probeTarget);
    await expect(probe).rejects.toBeInstanceOf(ProbeMismatch);
    await expect(probe).rejects.toThrow(/reading 131172 bytes at 65543 returned 131684 bytes/);
  });
});
