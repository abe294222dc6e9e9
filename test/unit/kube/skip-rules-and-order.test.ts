import { describe, expect, it } from "vitest";
import { applyTiers } from "../../../functions/lib/kube/apply/apply-order.ts";
import { skipReason } from "../../../functions/lib/kube/export/skip-rules.ts";
import type { KubeObject } from "../../../functions/lib/kube/objects.ts";
import type { KubeResource } from "../../../functions/lib/kube/resources.ts";

const type = (resource: string, group = "", kind = "X"): KubeResource => ({
  group,
  version: "v1",
  resource,
  kind,
  namespaced: true,
});
const owned = {
  ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-1", uid: "u", controller: true }],
};
const object = (metadata: Record<string, unknown> = {}, rest: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: "v1",
  kind: "X",
  metadata: { name: "o", namespace: "shop", ...metadata },
  ...rest,
});

describe("skipReason", () => {
  it.each<[string, KubeObject, KubeResource, RegExp | undefined]>([
    ["controller-owned Pod", object(owned), type("pods"), /owned by ReplicaSet web-1/],
    ["standalone Pod", object(), type("pods"), undefined],
    ["controller-owned ReplicaSet", object(owned), type("replicasets", "apps"), /owned by/],
    ["controller-owned Job (of a CronJob)", object(owned), type("jobs", "batch"), /owned by/],
    ["controller-owned ControllerRevision", object(owned), type("controllerrevisions", "apps"), /owned by/],
    ["controller-owned PVC is kept", object(owned), type("persistentvolumeclaims"), undefined],
    [
      "non-controller owner is not a reason",
      object({ ownerReferences: [{ apiVersion: "v1", kind: "X", name: "x", uid: "u" }] }),
      type("pods"),
      undefined,
    ],
    ["Endpoints", object(), type("endpoints"), /endpoints controller/],
    ["EndpointSlices", object(), type("endpointslices", "discovery.k8s.io"), /endpointslice/],
    ["core Events", object(), type("events"), /history/],
    ["events.k8s.io Events", object(), type("events", "events.k8s.io"), /history/],
    [
      "SA token Secret",
      object({}, { type: "kubernetes.io/service-account-token" }),
      type("secrets"),
      /token/,
    ],
    ["Opaque Secret", object({}, { type: "Opaque" }), type("secrets"), undefined],
    ["kube-root-ca.crt", object({ name: "kube-root-ca.crt" }), type("configmaps"), /kube-root-ca/],
    [
      "completed Job",
      object({}, { status: { conditions: [{ type: "Complete", status: "True" }] } }),
      type("jobs", "batch"),
      /finished/,
    ],
    [
      "failed Job",
      object({}, { status: { conditions: [{ type: "Failed", status: "True" }] } }),
      type("jobs", "batch"),
      /finished/,
    ],
    ["running Job", object({}, { status: { active: 1 } }), type("jobs", "batch"), undefined],
    ["succeeded Pod", object({}, { status: { phase: "Succeeded" } }), type("pods"), /finished/],
    ["running Pod", object({}, { status: { phase: "Running" } }), type("pods"), undefined],
  ])("%s", (_, input, resource, expected) => {
    const reason = skipReason(input, resource);
    if (expected === undefined) expect(reason).toBeUndefined();
    else expect(reason).toMatch(expected);
  });
});

describe("applyTiers", () => {
  it("orders the issue's priority list, then the rest alphabetically, webhooks last", () => {
    const types = [
      "validatingwebhookconfigurations.admissionregistration.k8s.io",
      "widgets.example.com",
      "deployments.apps",
      "statefulsets.apps",
      "services",
      "persistentvolumeclaims",
      "persistentvolumes",
      "resourcequotas",
      "limitranges",
      "configmaps",
      "secrets",
      "rolebindings.rbac.authorization.k8s.io",
      "roles.rbac.authorization.k8s.io",
      "serviceaccounts",
      "namespaces",
      "customresourcedefinitions.apiextensions.k8s.io",
      "networkpolicies.networking.k8s.io",
      "horizontalpodautoscalers.autoscaling",
    ];
    expect(applyTiers(types)).toEqual([
      ["customresourcedefinitions.apiextensions.k8s.io"],
      ["namespaces"],
      ["serviceaccounts"],
      ["roles.rbac.authorization.k8s.io"],
      ["rolebindings.rbac.authorization.k8s.io"],
      ["secrets"],
      ["configmaps"],
      ["limitranges"],
      ["resourcequotas"],
      ["persistentvolumes"],
      ["persistentvolumeclaims"],
      ["services"],
      ["deployments.apps", "statefulsets.apps"],
      ["horizontalpodautoscalers.autoscaling"],
      ["networkpolicies.networking.k8s.io"],
      ["widgets.example.com"],
      ["validatingwebhookconfigurations.admissionregistration.k8s.io"],
    ]);
  });
});
