import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../../functions/lib/kube/objects.ts";
import { clearJobSelector } from "../../../functions/lib/kube/sanitize/job-selector.ts";
import { clearPodNodeName } from "../../../functions/lib/kube/sanitize/pod-node-name.ts";
import { clearPvcBinding } from "../../../functions/lib/kube/sanitize/pvc-binding.ts";
import { sanitizeObject } from "../../../functions/lib/kube/sanitize/sanitize-object.ts";
import { clearServiceClusterIp } from "../../../functions/lib/kube/sanitize/service-cluster-ip.ts";
import { stripServerFields } from "../../../functions/lib/kube/sanitize/strip-server-fields.ts";
import { clearVolumeCopyMarks } from "../../../functions/lib/kube/sanitize/volume-copy-marks.ts";

const serverMetadata = {
  uid: "0b7e",
  resourceVersion: "123",
  generation: 4,
  creationTimestamp: "2026-01-01T00:00:00Z",
  managedFields: [{ manager: "kubectl" }],
  selfLink: "/api/v1/namespaces/shop/configmaps/x",
  ownerReferences: [{ apiVersion: "v1", kind: "X", name: "x", uid: "1" }],
};

describe("stripServerFields", () => {
  it.each<[string, KubeObject, KubeObject]>([
    [
      "drops server metadata and status, keeps user metadata",
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "x", namespace: "shop", labels: { a: "1" }, ...serverMetadata },
        data: { k: "v" },
        status: { phase: "x" },
      },
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "x", namespace: "shop", labels: { a: "1" } },
        data: { k: "v" },
      },
    ],
    [
      "drops the server-set name label of a Namespace",
      {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: "shop", labels: { "kubernetes.io/metadata.name": "shop", team: "a" } },
      },
      { apiVersion: "v1", kind: "Namespace", metadata: { name: "shop", labels: { team: "a" } } },
    ],
    [
      "removes the labels field when the name label was the only one",
      {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: "shop", labels: { "kubernetes.io/metadata.name": "shop" } },
      },
      { apiVersion: "v1", kind: "Namespace", metadata: { name: "shop" } },
    ],
    [
      "keeps that label on other kinds",
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "c", labels: { "kubernetes.io/metadata.name": "c" } },
      },
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "c", labels: { "kubernetes.io/metadata.name": "c" } },
      },
    ],
  ])("%s", (_, input, expected) => {
    const copy = structuredClone(input);
    expect(stripServerFields(input)).toEqual(expected);
    expect(input).toEqual(copy);
  });
});

describe("clearServiceClusterIp", () => {
  const service = (spec: Record<string, unknown>): KubeObject => ({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "web", namespace: "shop" },
    spec: { ports: [{ port: 80 }], ...spec },
  });
  it.each<[string, KubeObject, unknown]>([
    [
      "clears an allocated IP and IP list",
      service({ clusterIP: "10.0.0.7", clusterIPs: ["10.0.0.7"] }),
      { ports: [{ port: 80 }] },
    ],
    [
      "keeps headless None",
      service({ clusterIP: "None", clusterIPs: ["None"] }),
      { ports: [{ port: 80 }], clusterIP: "None", clusterIPs: ["None"] },
    ],
    ["leaves a Service without an IP alone", service({}), { ports: [{ port: 80 }] }],
    [
      "keeps node ports (apply decides whether they are free)",
      service({ type: "NodePort", clusterIP: "10.0.0.8", ports: [{ port: 80, nodePort: 30080 }] }),
      { type: "NodePort", ports: [{ port: 80, nodePort: 30080 }] },
    ],
  ])("%s", (_, input, expectedSpec) => {
    expect(clearServiceClusterIp(input).spec).toEqual(expectedSpec);
  });

  it("ignores other kinds that happen to have a clusterIP field", () => {
    const other: KubeObject = {
      apiVersion: "x.io/v1",
      kind: "Service",
      metadata: { name: "s" },
      spec: { clusterIP: "1" },
    };
    expect(clearServiceClusterIp(other)).toBe(other);
  });
});

describe("clearPvcBinding", () => {
  it("drops volumeName and every bind annotation, keeps user annotations", () => {
    const pvc: KubeObject = {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: {
        name: "data-db-0",
        namespace: "shop",
        annotations: {
          "pv.kubernetes.io/bind-completed": "yes",
          "pv.kubernetes.io/bound-by-controller": "yes",
          "volume.beta.kubernetes.io/storage-provisioner": "csi.sim",
          "volume.kubernetes.io/storage-provisioner": "csi.sim",
          "volume.kubernetes.io/selected-node": "node-1",
          "team/owner": "db",
        },
      },
      spec: { volumeName: "pvc-123", storageClassName: "fast", resources: { requests: { storage: "1Gi" } } },
    };
    expect(clearPvcBinding(pvc)).toEqual({
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: "data-db-0", namespace: "shop", annotations: { "team/owner": "db" } },
      spec: { storageClassName: "fast", resources: { requests: { storage: "1Gi" } } },
    });
  });

  it("removes the annotations field when only bind annotations were there", () => {
    const pvc: KubeObject = {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: "d", annotations: { "pv.kubernetes.io/bind-completed": "yes" } },
      spec: {},
    };
    expect(clearPvcBinding(pvc).metadata).toEqual({ name: "d" });
  });
});

describe("clearVolumeCopyMarks", () => {
  it("drops kubeferry's marks of this cluster's copy and the group snapshot label, keeps the rest", () => {
    const pvc: KubeObject = {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: {
        name: "data",
        labels: { app: "db", "kubeferry.io/group-snapshot": "kf-group-x" },
        annotations: {
          "kubeferry.dev/restored-manifest": '{"runId":"r1","namespace":"shop","pvc":"data"}',
          "kubeferry.dev/restored-by-pair": "onprem-to-west",
          "kubeferry.dev/activated-at": "2026-12-01T00:00:00Z",
          "team.example/owner": "payments",
        },
      },
    };
    expect(clearVolumeCopyMarks(pvc).metadata).toEqual({
      name: "data",
      labels: { app: "db" },
      annotations: { "team.example/owner": "payments" },
    });
    const configMap = { ...pvc, kind: "ConfigMap" };
    expect(clearVolumeCopyMarks(configMap)).toBe(configMap);
  });
});

describe("clearJobSelector", () => {
  it("drops the generated selector and UID labels of the template", () => {
    const job: KubeObject = {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "migrate" },
      spec: {
        selector: { matchLabels: { "batch.kubernetes.io/controller-uid": "u1" } },
        template: {
          metadata: {
            labels: {
              "batch.kubernetes.io/controller-uid": "u1",
              "controller-uid": "u1",
              "job-name": "migrate",
            },
          },
          spec: { containers: [] },
        },
      },
    };
    expect(clearJobSelector(job).spec).toEqual({
      template: { metadata: { labels: { "job-name": "migrate" } }, spec: { containers: [] } },
    });
  });

  it("keeps a manual selector", () => {
    const job: KubeObject = {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "m" },
      spec: { manualSelector: true, selector: { matchLabels: { a: "b" } } },
    };
    expect(clearJobSelector(job)).toBe(job);
  });
});

describe("clearPodNodeName", () => {
  it("unbinds a standalone pod from its source node", () => {
    const pod: KubeObject = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "debug", namespace: "shop" },
      spec: { nodeName: "source-node-0", containers: [{ name: "c", image: "busybox" }] },
    };
    expect(clearPodNodeName(pod).spec).toEqual({ containers: [{ name: "c", image: "busybox" }] });
  });
});

describe("sanitizeObject", () => {
  it("applies every sanitizer", () => {
    const service: KubeObject = {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web", namespace: "shop", ...serverMetadata },
      spec: { clusterIP: "10.0.0.1", ports: [{ port: 80 }] },
      status: { loadBalancer: {} },
    };
    expect(sanitizeObject(service)).toEqual({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web", namespace: "shop" },
      spec: { ports: [{ port: 80 }] },
    });
  });
});
