import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../../functions/lib/kube/objects.ts";
import {
  applyImageRegistryMapping,
  rewriteImage,
} from "../../../functions/lib/kube/transform/image-registry.ts";
import { applyNamespaceMapping } from "../../../functions/lib/kube/transform/namespace-mapping.ts";
import { parseResourceModifiers } from "../../../functions/lib/kube/transform/resource-modifiers.ts";
import { applyStandbyMode } from "../../../functions/lib/kube/transform/standby-mode.ts";
import { applyStorageClassMapping } from "../../../functions/lib/kube/transform/storage-class-mapping.ts";
import { NO_TRANSFORMS, transformObject } from "../../../functions/lib/kube/transform/transform-object.ts";

const mapping = { shop: "shop-dr" };

describe("applyNamespaceMapping", () => {
  it.each<[string, KubeObject, KubeObject]>([
    [
      "moves a namespaced object",
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "shop" } },
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "shop-dr" } },
    ],
    [
      "keeps an unmapped namespace",
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "other" } },
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "other" } },
    ],
    [
      "renames a Namespace object",
      { apiVersion: "v1", kind: "Namespace", metadata: { name: "shop" } },
      { apiVersion: "v1", kind: "Namespace", metadata: { name: "shop-dr" } },
    ],
    [
      "maps ServiceAccount subjects of a RoleBinding, not User subjects",
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata: { name: "rb", namespace: "shop" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "r" },
        subjects: [
          { kind: "ServiceAccount", name: "app", namespace: "shop" },
          { kind: "ServiceAccount", name: "mon", namespace: "monitoring" },
          { kind: "User", name: "alice", apiGroup: "rbac.authorization.k8s.io" },
        ],
      },
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata: { name: "rb", namespace: "shop-dr" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "r" },
        subjects: [
          { kind: "ServiceAccount", name: "app", namespace: "shop-dr" },
          { kind: "ServiceAccount", name: "mon", namespace: "monitoring" },
          { kind: "User", name: "alice", apiGroup: "rbac.authorization.k8s.io" },
        ],
      },
    ],
    [
      "maps ClusterRoleBinding subjects",
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRoleBinding",
        metadata: { name: "crb" },
        subjects: [{ kind: "ServiceAccount", name: "app", namespace: "shop" }],
      },
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRoleBinding",
        metadata: { name: "crb" },
        subjects: [{ kind: "ServiceAccount", name: "app", namespace: "shop-dr" }],
      },
    ],
  ])("%s", (_, input, expected) => {
    expect(applyNamespaceMapping(mapping, input)).toEqual(expected);
  });
});

describe("applyStorageClassMapping", () => {
  const classes = { fast: "gp3", slow: "sc1" };
  it.each<[string, KubeObject, unknown]>([
    [
      "maps a PVC's class",
      {
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        metadata: { name: "d" },
        spec: { storageClassName: "fast" },
      },
      { storageClassName: "gp3" },
    ],
    [
      "leaves an unmapped class",
      {
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        metadata: { name: "d" },
        spec: { storageClassName: "local" },
      },
      { storageClassName: "local" },
    ],
    [
      "leaves a PVC on the default class",
      { apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { name: "d" }, spec: {} },
      {},
    ],
    [
      "maps every volumeClaimTemplate of a StatefulSet",
      {
        apiVersion: "apps/v1",
        kind: "StatefulSet",
        metadata: { name: "db" },
        spec: {
          replicas: 2,
          volumeClaimTemplates: [
            { metadata: { name: "data" }, spec: { storageClassName: "fast" } },
            { metadata: { name: "logs" }, spec: { storageClassName: "slow" } },
          ],
        },
      },
      {
        replicas: 2,
        volumeClaimTemplates: [
          { metadata: { name: "data" }, spec: { storageClassName: "gp3" } },
          { metadata: { name: "logs" }, spec: { storageClassName: "sc1" } },
        ],
      },
    ],
  ])("%s", (_, input, expectedSpec) => {
    expect(applyStorageClassMapping(classes, input).spec).toEqual(expectedSpec);
  });

  it("maps a class named by the beta annotation, in a PVC and in a claim template (the cassandra example's form)", () => {
    const beta = { "volume.beta.kubernetes.io/storage-class": "fast" };
    const claim: KubeObject = {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: "d", annotations: { ...beta, team: "db" } },
      spec: {},
    };
    expect(applyStorageClassMapping(classes, claim).metadata.annotations).toEqual({
      "volume.beta.kubernetes.io/storage-class": "gp3",
      team: "db",
    });
    const statefulSet: KubeObject = {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: { name: "cassandra" },
      spec: { volumeClaimTemplates: [{ metadata: { name: "data", annotations: beta }, spec: {} }] },
    };
    expect(applyStorageClassMapping(classes, statefulSet).spec).toEqual({
      volumeClaimTemplates: [
        {
          metadata: { name: "data", annotations: { "volume.beta.kubernetes.io/storage-class": "gp3" } },
          spec: {},
        },
      ],
    });
  });
});

describe("applyStandbyMode", () => {
  it.each<[string, KubeObject, unknown, Record<string, string> | undefined]>([
    [
      "scales a Deployment to 0 and remembers its replicas",
      { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "w" }, spec: { replicas: 3 } },
      { replicas: 0 },
      { "kubeferry.io/original-replicas": "3" },
    ],
    [
      "remembers the server default 1 when replicas is absent",
      { apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "db" }, spec: {} },
      { replicas: 0 },
      { "kubeferry.io/original-replicas": "1" },
    ],
    [
      "keeps an original already recorded (re-applying a standby object)",
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "w", annotations: { "kubeferry.io/original-replicas": "5" } },
        spec: { replicas: 0 },
      },
      { replicas: 0 },
      { "kubeferry.io/original-replicas": "5" },
    ],
    [
      "suspends a CronJob and remembers it was running",
      { apiVersion: "batch/v1", kind: "CronJob", metadata: { name: "c" }, spec: { schedule: "* * * * *" } },
      { schedule: "* * * * *", suspend: true },
      { "kubeferry.io/original-suspend": "false" },
    ],
    [
      "remembers a CronJob that was already suspended",
      { apiVersion: "batch/v1", kind: "CronJob", metadata: { name: "c" }, spec: { suspend: true } },
      { suspend: true },
      { "kubeferry.io/original-suspend": "true" },
    ],
    [
      "leaves other kinds alone",
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" }, spec: { replicas: 3 } },
      { replicas: 3 },
      undefined,
    ],
  ])("%s", (_, input, expectedSpec, expectedAnnotations) => {
    const result = applyStandbyMode(input);
    expect(result.spec).toEqual(expectedSpec);
    expect(result.metadata.annotations).toEqual(expectedAnnotations);
  });
});

describe("image registry rewrite", () => {
  const registries = { "registry.local/": "ecr.example/", "registry.local/team/": "ecr.example/special/" };
  it.each([
    ["registry.local/app:1", "ecr.example/app:1"],
    ["registry.local/team/app:1", "ecr.example/special/app:1"],
    ["docker.io/library/busybox", "docker.io/library/busybox"],
  ])("%s → %s", (image, expected) => {
    expect(rewriteImage(registries, image)).toBe(expected);
  });

  it("rewrites containers and init containers of a CronJob's template", () => {
    const cronJob: KubeObject = {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "c" },
      spec: {
        jobTemplate: {
          spec: {
            template: {
              spec: {
                initContainers: [{ name: "i", image: "registry.local/init" }],
                containers: [{ name: "c", image: "registry.local/app" }],
              },
            },
          },
        },
      },
    };
    const result = applyImageRegistryMapping(registries, cronJob);
    expect(result.spec).toEqual({
      jobTemplate: {
        spec: {
          template: {
            spec: {
              initContainers: [{ name: "i", image: "ecr.example/init" }],
              containers: [{ name: "c", image: "ecr.example/app" }],
            },
          },
        },
      },
    });
  });
});

describe("transformObject", () => {
  it("runs modifiers on the source view, then mappings, then standby", () => {
    const modifiers = parseResourceModifiers([
      {
        conditions: { groupResource: "deployments.apps", namespaces: ["shop"] },
        patches: [{ op: "replace", path: "/spec/replicas", value: 4 }],
      },
    ]);
    const deployment: KubeObject = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", namespace: "shop" },
      spec: { replicas: 2 },
    };
    const result = transformObject(deployment, "deployments.apps", {
      ...NO_TRANSFORMS,
      namespaceMapping: { shop: "shop-dr" },
      standby: true,
      modifiers,
    });
    expect(result).toEqual({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", namespace: "shop-dr", annotations: { "kubeferry.io/original-replicas": "4" } },
      spec: { replicas: 0 },
    });
  });
});
