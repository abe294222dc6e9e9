import { describe, expect, it } from "vitest";
import { mapBounded } from "../../../functions/lib/bounded-map.ts";
import { activationPatch, deactivationPatch } from "../../../functions/lib/kube/activate/activation.ts";
import { type ObjectStatus, runStatus } from "../../../functions/lib/kube/apply/apply-report.ts";
import {
  isNodePortRefusal,
  requestedNodePorts,
  withoutNodePorts,
} from "../../../functions/lib/kube/apply/node-ports.ts";
import { KubeApiError } from "../../../functions/lib/kube/client/kube-api-error.ts";
import { ResourceMapper } from "../../../functions/lib/kube/export/discovery.ts";
import type { KubeObject } from "../../../functions/lib/kube/objects.ts";

const object = (status: ObjectStatus["status"]): ObjectStatus => ({
  group: "",
  version: "v1",
  kind: "ConfigMap",
  name: "c",
  status,
});

describe("runStatus", () => {
  it.each<[string, ObjectStatus["status"][], boolean, string]>([
    ["all applied", ["Created", "Updated", "Skipped"], false, "Successful"],
    ["nothing to do", [], false, "Successful"],
    ["one refused among others", ["Created", "Failed"], false, "PartialSuccess"],
    ["every object refused", ["Failed", "Failed"], false, "Failed"],
    ["stopped by failFast", ["Created", "Failed", "Skipped"], true, "Failed"],
    ["dry run", ["WouldCreate", "WouldUpdate", "Unchanged"], false, "Successful"],
  ])("%s", (_, outcomes, stopped, expected) => {
    expect(runStatus(outcomes.map(object), stopped)).toBe(expected);
  });
});

describe("node ports", () => {
  const service: KubeObject = {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "web", namespace: "shop" },
    spec: { type: "NodePort", ports: [{ port: 80, nodePort: 30080 }, { port: 443 }] },
  };
  it("lists and removes requested node ports", () => {
    expect(requestedNodePorts(service)).toEqual([30080]);
    expect(withoutNodePorts(service).spec).toEqual({
      type: "NodePort",
      ports: [{ port: 80 }, { port: 443 }],
    });
  });
  it.each<[string, unknown, boolean]>([
    [
      "taken",
      new KubeApiError(
        'Service "web" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated',
        { cluster: "d", status: 422 },
      ),
      true,
    ],
    [
      "out of range",
      new KubeApiError(
        "spec.ports[0].nodePort: Invalid value: 40000: provided port is not in the valid range. The range of valid ports is 30000-32767",
        { cluster: "d", status: 422 },
      ),
      true,
    ],
    [
      "another invalid field",
      new KubeApiError("spec.selector: Invalid value", { cluster: "d", status: 422 }),
      false,
    ],
    ["a quota refusal", new KubeApiError("exceeded quota", { cluster: "d", status: 403 }), false],
  ])("refusal when %s: %s", (_, error, expected) => {
    expect(isNodePortRefusal(error)).toBe(expected);
  });
});

describe("activation patches", () => {
  const deployment = (replicas: number | undefined, annotations?: Record<string, string>): KubeObject => ({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", ...(annotations ? { annotations } : {}) },
    spec: replicas === undefined ? {} : { replicas },
  });
  const cronJob = (suspend: boolean, annotations?: Record<string, string>): KubeObject => ({
    apiVersion: "batch/v1",
    kind: "CronJob",
    metadata: { name: "c", ...(annotations ? { annotations } : {}) },
    spec: { suspend },
  });
  const replicas = "kubeferry.io/original-replicas";
  const suspend = "kubeferry.io/original-suspend";

  it.each<[string, KubeObject, unknown]>([
    [
      "standby Deployment",
      deployment(0, { [replicas]: "3" }),
      { metadata: { annotations: { [replicas]: null } }, spec: { replicas: 3 } },
    ],
    ["running Deployment", deployment(3), "not in standby (no remembered replicas)"],
    [
      "bad annotation",
      deployment(0, { [replicas]: "three" }),
      expect.stringContaining("is not a replica count"),
    ],
    [
      "standby CronJob",
      cronJob(true, { [suspend]: "false" }),
      { metadata: { annotations: { [suspend]: null } }, spec: { suspend: false } },
    ],
    [
      "CronJob suspended on the source",
      cronJob(true, { [suspend]: "true" }),
      { metadata: { annotations: { [suspend]: null } }, spec: { suspend: true } },
    ],
  ])("activate %s", (_, input, expected) => {
    const patch = activationPatch(input);
    expect(typeof patch === "string" ? patch : patch.body).toEqual(expected);
  });

  it.each<[string, KubeObject, unknown]>([
    [
      "running Deployment",
      deployment(3),
      { metadata: { annotations: { [replicas]: "3" } }, spec: { replicas: 0 } },
    ],
    [
      "Deployment with default replicas",
      deployment(undefined),
      { metadata: { annotations: { [replicas]: "1" } }, spec: { replicas: 0 } },
    ],
    ["standby Deployment", deployment(0, { [replicas]: "3" }), "already in standby"],
    [
      "standby Deployment scaled by hand",
      deployment(2, { [replicas]: "3" }),
      { metadata: { annotations: { [replicas]: "3" } }, spec: { replicas: 0 } },
    ],
    [
      "running CronJob",
      cronJob(false),
      { metadata: { annotations: { [suspend]: "false" } }, spec: { suspend: true } },
    ],
    ["standby CronJob", cronJob(true, { [suspend]: "false" }), "already in standby"],
  ])("deactivate %s", (_, input, expected) => {
    const patch = deactivationPatch(input);
    expect(typeof patch === "string" ? patch : patch.body).toEqual(expected);
  });
});

describe("ResourceMapper", () => {
  it("maps served kinds and the kinds of CRDs applied in the same run", () => {
    const mapper = new ResourceMapper([
      { group: "apps", version: "v1", resource: "deployments", kind: "Deployment", namespaced: true },
      { group: "", version: "v1", resource: "configmaps", kind: "ConfigMap", namespaced: true },
    ]);
    mapper.addCrd({
      spec: {
        group: "example.com",
        scope: "Namespaced",
        names: { plural: "widgets", kind: "Widget" },
        versions: [
          { name: "v1", served: true },
          { name: "v0", served: false },
        ],
      },
    });
    expect(mapper.resourceFor("apps/v1", "Deployment")?.resource).toBe("deployments");
    expect(mapper.resourceFor("v1", "ConfigMap")?.resource).toBe("configmaps");
    expect(mapper.resourceFor("example.com/v1", "Widget")).toEqual({
      group: "example.com",
      version: "v1",
      resource: "widgets",
      kind: "Widget",
      namespaced: true,
    });
    expect(mapper.resourceFor("example.com/v0", "Widget")).toBeUndefined();
    expect(mapper.resourceFor("v1", "Deployment")).toBeUndefined();
  });
});

describe("mapBounded", () => {
  it("keeps order and never exceeds the limit", async () => {
    let running = 0;
    let peak = 0;
    const results = await mapBounded([5, 1, 4, 2, 3], 2, async (value) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, value));
      running--;
      return value * 10;
    });
    expect(results).toEqual([50, 10, 40, 20, 30]);
    expect(peak).toBe(2);
  });

  it("stops starting work after a failure and rethrows it", async () => {
    const started: number[] = [];
    await expect(
      mapBounded([1, 2, 3, 4], 1, async (value) => {
        started.push(value);
        if (value === 2) throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(started).toEqual([1, 2]);
  });
});
