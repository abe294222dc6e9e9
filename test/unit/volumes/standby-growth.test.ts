import type { V1PersistentVolume, V1PersistentVolumeClaim } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { ConflictError } from "../../../functions/lib/errors.ts";
import { TransientError } from "../../../functions/lib/repository/transient-errors.ts";
import { paths } from "../../../functions/lib/volumes/kube-calls.ts";
import { growStandby } from "../../../functions/lib/volumes/standby-growth.ts";
import { fakeCluster } from "./fake-cluster.ts";

const MiB = 1024 * 1024;

const claim = (storageClassName: string): V1PersistentVolumeClaim => ({
  metadata: { namespace: "shop", name: "data" },
  spec: { storageClassName, volumeName: "pv-data", resources: { requests: { storage: "256Mi" } } },
});
const pv = (storage: string): V1PersistentVolume => ({
  metadata: { name: "pv-data" },
  spec: { capacity: { storage } },
});
const instantClock = () => {
  let now = 0;
  return {
    now: () => now,
    sleep: async (ms: number) => {
      now += ms;
    },
  };
};

describe("growStandby", () => {
  it("leaves a standby that is large enough alone", async () => {
    const { client, patches } = fakeCluster(new Map());
    const grown = await growStandby(
      { client, clock: instantClock() },
      { claim: claim("fast"), pv: pv("256Mi"), requestedStorage: "256Mi", volumeBytes: 256 * MiB },
    );
    expect(grown.spec?.capacity?.storage).toBe("256Mi");
    expect(patches).toEqual([]);
  });

  it("asks for the source's new request on the PVC and returns the PV once the resizer grew it", async () => {
    const objects = new Map<string, unknown>([
      [paths.storageClass("fast"), { allowVolumeExpansion: true }],
      [paths.pv("pv-data"), pv("256Mi")],
      [paths.pvc("shop", "data"), claim("fast")],
    ]);
    const { client, patches } = fakeCluster(objects, () => objects.set(paths.pv("pv-data"), pv("320Mi")));
    const grown = await growStandby(
      { client, clock: instantClock() },
      { claim: claim("fast"), pv: pv("256Mi"), requestedStorage: "320Mi", volumeBytes: 320 * MiB },
    );
    expect(grown.spec?.capacity?.storage).toBe("320Mi");
    expect(patches).toEqual([
      { path: paths.pvc("shop", "data"), body: { spec: { resources: { requests: { storage: "320Mi" } } } } },
    ]);
  });

  it("refuses, naming the PVC and the class, when the class does not allow expansion", async () => {
    const { client, patches } = fakeCluster(new Map([[paths.storageClass("fixed"), {}]]));
    const growing = growStandby(
      { client, clock: instantClock() },
      { claim: claim("fixed"), pv: pv("256Mi"), requestedStorage: "320Mi", volumeBytes: 320 * MiB },
    );
    await expect(growing).rejects.toBeInstanceOf(ConflictError);
    await expect(growing).rejects.toThrow(
      /standby PVC shop\/data .*storage class fixed does not allow volume expansion/,
    );
    expect(patches).toEqual([]);
  });

  it("fails with the driver's reason when it refuses the new size as infeasible", async () => {
    const objects = new Map<string, unknown>([
      [paths.storageClass("fast"), { allowVolumeExpansion: true }],
      [paths.pv("pv-data"), pv("256Mi")],
      [
        paths.pvc("shop", "data"),
        {
          ...claim("fast"),
          status: {
            allocatedResourceStatuses: { storage: "ControllerResizeInfeasible" },
            conditions: [{ type: "ControllerResizeError", status: "True", message: "out of range" }],
          },
        },
      ],
    ]);
    const { client } = fakeCluster(objects);
    await expect(
      growStandby(
        { client, clock: instantClock() },
        { claim: claim("fast"), pv: pv("256Mi"), requestedStorage: "64Ti", volumeBytes: 256 * MiB },
      ),
    ).rejects.toThrow(/shop\/data: the driver refused .*out of range/);
  });

  it("gives up as a transient error, for the step's retry, when no resizer acts", async () => {
    const objects = new Map<string, unknown>([
      [paths.storageClass("fast"), { allowVolumeExpansion: true }],
      [paths.pv("pv-data"), pv("256Mi")],
      [paths.pvc("shop", "data"), claim("fast")],
    ]);
    const { client } = fakeCluster(objects);
    await expect(
      growStandby(
        { client, clock: instantClock() },
        { claim: claim("fast"), pv: pv("256Mi"), requestedStorage: "320Mi", volumeBytes: 320 * MiB },
      ),
    ).rejects.toBeInstanceOf(TransientError);
  });
});
