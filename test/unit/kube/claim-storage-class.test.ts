import { describe, expect, it } from "vitest";
import { claimStorageClass } from "../../../functions/lib/kube/claim-storage-class.ts";

describe("claimStorageClass", () => {
  it.each([
    ["the spec field", { spec: { storageClassName: "gp3" } }, "gp3"],
    [
      "the beta annotation (the public cassandra example's form)",
      { metadata: { annotations: { "volume.beta.kubernetes.io/storage-class": "fast" } }, spec: {} },
      "fast",
    ],
    ["none", { spec: {} }, undefined],
    ["an explicit empty class (no dynamic provisioning)", { spec: { storageClassName: "" } }, ""],
  ])("reads %s", (_, claim, expected) => {
    expect(claimStorageClass(claim)).toBe(expected);
  });
});
