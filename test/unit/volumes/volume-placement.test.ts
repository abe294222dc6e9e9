import { describe, expect, it } from "vitest";
import { helperPodManifest } from "../../../functions/lib/volumes/helper-pod.ts";
import {
  type VolumeNodeSelector,
  volumeZone,
  ZONE_LABEL,
} from "../../../functions/lib/volumes/volume-placement.ts";

const inZones = (...terms: string[][]): VolumeNodeSelector => ({
  nodeSelectorTerms: terms.map((values) => ({
    matchExpressions: [{ key: ZONE_LABEL, operator: "In", values }],
  })),
});

describe("volumeZone", () => {
  it("names the one zone every term pins", () => {
    expect(volumeZone(inZones(["zone-b"]))).toBe("zone-b");
    expect(volumeZone(inZones(["zone-b"], ["zone-b"]))).toBe("zone-b");
  });

  it("names none for a regional, unconstrained or node-local volume", () => {
    expect(volumeZone(undefined)).toBeUndefined();
    expect(volumeZone(inZones(["zone-a", "zone-b"]))).toBeUndefined();
    expect(volumeZone(inZones(["zone-a"], ["zone-b"]))).toBeUndefined();
    expect(
      volumeZone({
        nodeSelectorTerms: [
          { matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: ["node-1"] }] },
        ],
      }),
    ).toBeUndefined();
  });
});

it("helper pods require the node affinity they are given", () => {
  const spec = {
    runId: "r",
    namespace: "kubeferry-system",
    name: "p",
    claimName: "c",
    readOnly: true,
    volume: "v",
    volumeBytes: 1,
  };
  expect(helperPodManifest(spec).spec?.affinity).toBeUndefined();
  const nodeAffinity = inZones(["zone-c"]);
  expect(helperPodManifest(spec, { nodeAffinity }).spec?.affinity).toEqual({
    nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: nodeAffinity },
  });
});
