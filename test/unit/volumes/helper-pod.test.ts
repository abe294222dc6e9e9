import { describe, expect, it } from "vitest";
import {
  DEFAULT_HELPER_IMAGE,
  helperPodLifetimeSeconds,
  helperPodManifest,
} from "../../../functions/lib/volumes/helper-pod.ts";
import { RUN_LABEL, TEMPORARY_LABEL } from "../../../functions/lib/volumes/names.ts";

const spec = {
  runId: "run-1",
  namespace: "shop",
  name: "kf-src-data-0123456789ab",
  claimName: "kf-src-data-0123456789ab",
  readOnly: true,
  volume: "PVC shop/data",
  volumeBytes: 1024,
};

describe("helperPodManifest", () => {
  it("exposes the claim as a block device at KUBEFERRY_DEVICE, read-only for a source", () => {
    const pod = helperPodManifest(spec);
    const container = pod.spec?.containers[0];
    expect(container?.image).toBe(DEFAULT_HELPER_IMAGE);
    expect(DEFAULT_HELPER_IMAGE).toMatch(/:\d+\.\d+\.\d+$/); // pinned
    expect(container?.volumeDevices).toEqual([{ name: "volume", devicePath: "/dev/kubeferry" }]);
    expect(container?.env).toEqual([{ name: "KUBEFERRY_DEVICE", value: "/dev/kubeferry" }]);
    expect(pod.spec?.volumes?.[0]?.persistentVolumeClaim).toEqual({
      claimName: spec.claimName,
      readOnly: true,
    });
    expect(
      helperPodManifest({ ...spec, readOnly: false }).spec?.volumes?.[0]?.persistentVolumeClaim?.readOnly,
    ).toBe(false);
  });

  it("has no privileges, small requests, a bounded life and the run's labels", () => {
    const pod = helperPodManifest(spec, { image: "mirror.example/busybox:1.36.1", maxLifetimeSeconds: 600 });
    const container = pod.spec?.containers[0];
    expect(container?.image).toBe("mirror.example/busybox:1.36.1");
    expect(container?.securityContext).toMatchObject({
      privileged: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    });
    expect(pod.spec?.automountServiceAccountToken).toBe(false);
    expect(pod.spec?.activeDeadlineSeconds).toBe(600);
    expect(container?.resources?.requests).toEqual({ cpu: "100m", memory: "32Mi" });
    // A namespace whose ResourceQuota covers limits.cpu admits only pods with a CPU limit.
    expect(container?.resources?.limits).toEqual({ cpu: "1", memory: "256Mi" });
    expect(container?.command).toEqual(["sleep", "600"]);
  });

  it("lives, by default, longer than the longest run it may serve", () => {
    const pod = helperPodManifest(spec);
    expect(pod.spec?.activeDeadlineSeconds).toBe(helperPodLifetimeSeconds);
    expect(pod.spec?.containers[0]?.command).toEqual(["sleep", String(helperPodLifetimeSeconds)]);
    expect(pod.metadata?.labels).toEqual({ [RUN_LABEL]: "run-1", [TEMPORARY_LABEL]: "true" });
  });
});
