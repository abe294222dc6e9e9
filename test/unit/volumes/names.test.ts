import { describe, expect, it } from "vitest";
import {
  finalPvName,
  RUN_LABEL,
  runLabels,
  runSelector,
  temporaryName,
} from "../../../functions/lib/volumes/names.ts";

describe("temporary names and labels", () => {
  it("are deterministic per run and volume, readable, and valid DNS labels", () => {
    const name = temporaryName("src", "run-1", "shop", "Data.Volume_0");
    expect(name).toBe(temporaryName("src", "run-1", "shop", "Data.Volume_0"));
    expect(name).toMatch(/^kf-src-data-volume-0-[0-9a-f]{12}$/);
    expect(temporaryName("src", "run-2", "shop", "Data.Volume_0")).not.toBe(name);
    expect(temporaryName("src", "run-1", "other", "Data.Volume_0")).not.toBe(name);
    const long = temporaryName("snap", "r", "ns", "x".repeat(250));
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    expect(finalPvName("run-1", "shop", "data")).toMatch(/^kf-pv-[0-9a-f]{20}$/);
  });

  it("keep valid run ids as label values and hash the others", () => {
    expect(runLabels("run-1")[RUN_LABEL]).toBe("run-1");
    const odd = runLabels("arn:aws:states:eu-west-1:1:execution:m:run/1")[RUN_LABEL] as string;
    expect(odd).toMatch(/^h-[0-9a-f]{40}$/);
    expect(runSelector("run-1")).toBe("kubeferry.dev/run=run-1,kubeferry.dev/temporary=true");
  });
});
