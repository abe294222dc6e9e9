import { describe, expect, it } from "vitest";
import { ValidationError } from "../../../functions/lib/errors.ts";
import { type PairRecord, reversedPairSpec } from "../../../functions/lib/kube/pairing/pairs.ts";

const origin: PairRecord = {
  name: "onprem-to-west",
  source: "onprem",
  destination: "west",
  storageClassMapping: { "ceph-rbd": "gp3", "ceph-fs": "efs" },
  namespaceMapping: { shop: "shop-dr" },
  zoneMapping: { rack1: "eu-west-1a" },
  dataMoverNamespace: "movers",
  volumeTransport: "auto",
  version: 1,
  checks: [],
  createdAt: "2026-12-01T00:00:00.000Z",
  checkedAt: "2026-12-01T00:00:00.000Z",
};

describe("reversedPairSpec", () => {
  it("swaps the clusters, inverts every mapping and shares the origin's repository", () => {
    expect(reversedPairSpec(origin, "west-to-onprem")).toEqual({
      name: "west-to-onprem",
      source: "west",
      destination: "onprem",
      storageClassMapping: { gp3: "ceph-rbd", efs: "ceph-fs" },
      namespaceMapping: { "shop-dr": "shop" },
      zoneMapping: { "eu-west-1a": "rack1" },
      dataMoverNamespace: "movers",
      volumeTransport: "auto",
      repository: "onprem-to-west",
      reverseOf: "onprem-to-west",
    });
  });

  it("keeps the first repository when a reversed pair is reversed again", () => {
    const reversed = { ...origin, ...reversedPairSpec(origin, "back") } as PairRecord;
    const again = reversedPairSpec(reversed, "forth");
    expect(again.repository).toBe("onprem-to-west");
    expect(again.reverseOf).toBe("back");
    expect(again.storageClassMapping).toEqual(origin.storageClassMapping);
  });

  it("refuses two classes mapped to one unless the person chooses, and names them", () => {
    const merged = { ...origin, storageClassMapping: { "ceph-rbd": "gp3", "local-ssd": "gp3" } };
    expect(() => reversedPairSpec(merged, "back")).toThrow(ValidationError);
    expect(() => reversedPairSpec(merged, "back")).toThrow(
      /ceph-rbd and local-ssd both map to gp3.*--storage-class gp3=ceph-rbd/,
    );
    expect(reversedPairSpec(merged, "back", { gp3: "local-ssd" }).storageClassMapping).toEqual({
      gp3: "local-ssd",
    });
  });

  it("refuses to reverse a reversed pair into its own origin's name", () => {
    const reversed = { ...origin, ...reversedPairSpec(origin, "back") } as PairRecord;
    expect(() => reversedPairSpec(reversed, "onprem-to-west")).toThrow(
      /replicate back with pair onprem-to-west itself/,
    );
  });
});
