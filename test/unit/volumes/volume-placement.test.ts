import { describe, expect, it } from "vitest";
import { helperPodManifest } from "../../../functions/lib/volumes/helper-pod.ts";
import { paths } from "../../../functions/lib/volumes/kube-calls.ts";
import {
  destinationNodeAffinity,
  type VolumeNodeSelector,
  volumeZone,
  ZONE_LABEL,
} from "../../../functions/lib/volumes/volume-placement.ts";
import { NamespaceWorkloads } from "../../../functions/lib/volumes/workload-placement.ts";
import { fakeCluster } from "./fake-cluster.ts";

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

describe("destinationNodeAffinity on a WaitForFirstConsumer class", () => {
  const zonesOf = (...zones: string[]) =>
    zones.map((zone, i) => ({ metadata: { name: `node-${i}`, labels: { [ZONE_LABEL]: zone } } }));
  const destination = (bindingMode: string) =>
    fakeCluster(
      new Map([[paths.storageClass("zonal"), { volumeBindingMode: bindingMode }]]),
      () => {},
      new Map([["/api/v1/nodes", zonesOf("zone-c", "zone-a", "zone-b", "zone-a")]]),
    ).client;
  const place = (
    input: Partial<Parameters<typeof destinationNodeAffinity>[1]>,
    mode = "WaitForFirstConsumer",
  ) => destinationNodeAffinity(destination(mode), { storageClass: "zonal", sourceZone: undefined, ...input });

  it("keeps the source volume's zone, through the zone mapping, where the template allows it", async () => {
    expect(await place({ sourceZone: "zone-b" })).toEqual(inZones(["zone-b"]));
    expect(await place({ sourceZone: "east-1", zoneMapping: { "east-1": "zone-c" } })).toEqual(
      inZones(["zone-c"]),
    );
    expect(
      await place({
        sourceZone: "zone-b",
        workload: { workload: "Deployment shop/db", zones: ["zone-b", "zone-c"] },
      }),
    ).toEqual(inZones(["zone-b"]));
  });

  it("moves to a zone the pod template requires when the source's is not one", async () => {
    expect(
      await place({
        sourceZone: "zone-a",
        workload: { workload: "Deployment shop/db", zones: ["zone-c", "zone-b"] },
      }),
    ).toEqual(inZones(["zone-b"]));
    expect(await place({ workload: { workload: "Deployment shop/db", zones: ["zone-c"] } })).toEqual(
      inZones(["zone-c"]),
    );
  });

  it("spreads a StatefulSet's replicas over the allowed zones by ordinal", async () => {
    const replica = (spreadOrdinal: number) =>
      place({ sourceZone: "zone-a", workload: { workload: "StatefulSet shop/db", spreadOrdinal } });
    expect(await Promise.all([0, 1, 2, 3].map(replica))).toEqual([
      inZones(["zone-a"]),
      inZones(["zone-b"]),
      inZones(["zone-c"]),
      inZones(["zone-a"]),
    ]);
  });

  it("leaves the pod to the scheduler without a zone to keep, or on an Immediate class", async () => {
    expect(await place({})).toBeUndefined();
    expect(await place({ sourceZone: "zone-x" })).toBeUndefined();
    expect(await place({ workload: { workload: "Deployment shop/db", zones: ["zone-x"] } })).toBeUndefined();
    expect(await place({ sourceZone: "zone-b" }, "Immediate")).toBeUndefined();
  });
});

describe("NamespaceWorkloads", () => {
  const statefulSet = {
    metadata: { name: "db", namespace: "shop" },
    spec: {
      volumeClaimTemplates: [{ metadata: { name: "data" } }],
      template: {
        spec: {
          nodeSelector: { [ZONE_LABEL]: "zone-b" },
          topologySpreadConstraints: [
            { topologyKey: ZONE_LABEL, maxSkew: 1, whenUnsatisfiable: "DoNotSchedule" },
          ],
          containers: [],
        },
      },
    },
  };
  const deployment = {
    metadata: { name: "web", namespace: "shop" },
    spec: {
      template: {
        spec: {
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [
                  { matchExpressions: [{ key: ZONE_LABEL, operator: "In", values: ["zone-c"] }] },
                  { matchExpressions: [{ key: ZONE_LABEL, operator: "In", values: ["zone-a", "zone-c"] }] },
                ],
              },
            },
          },
          volumes: [{ name: "v", persistentVolumeClaim: { claimName: "uploads" } }],
          containers: [],
        },
      },
    },
  };
  const workloads = () =>
    new NamespaceWorkloads(
      fakeCluster(
        new Map(),
        () => {},
        new Map([
          ["/apis/apps/v1/namespaces/shop/statefulsets", [statefulSet]],
          ["/apis/apps/v1/namespaces/shop/deployments", [deployment]],
        ]),
      ).client,
    );

  it("reads a StatefulSet replica's zones and ordinal from its claim template", async () => {
    expect(await workloads().placementOf("shop", "data-db-2")).toEqual({
      workload: "StatefulSet shop/db",
      zones: ["zone-b"],
      spreadOrdinal: 2,
    });
  });

  it("reads the zones a Deployment's required node affinity allows", async () => {
    expect(await workloads().placementOf("shop", "uploads")).toEqual({
      workload: "Deployment shop/web",
      zones: ["zone-a", "zone-c"],
    });
  });

  it("finds nothing for a claim no workload mounts", async () => {
    expect(await workloads().placementOf("shop", "data-db-x")).toBeUndefined();
    expect(await workloads().placementOf("shop", "scratch")).toBeUndefined();
  });
});
