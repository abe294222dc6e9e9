import { describe, expect, it } from "vitest";
import { describeObject, splitApiVersion } from "../../../functions/lib/kube/objects.ts";
import { groupResource, type KubeResource, resourcePath } from "../../../functions/lib/kube/resources.ts";

const deployments: KubeResource = {
  group: "apps",
  version: "v1",
  resource: "deployments",
  kind: "Deployment",
  namespaced: true,
};
const namespaces: KubeResource = {
  group: "",
  version: "v1",
  resource: "namespaces",
  kind: "Namespace",
  namespaced: false,
};

describe("resource paths", () => {
  it.each<[KubeResource, string | undefined, string | undefined, string]>([
    [deployments, "shop", "web", "/apis/apps/v1/namespaces/shop/deployments/web"],
    [deployments, "shop", undefined, "/apis/apps/v1/namespaces/shop/deployments"],
    [deployments, undefined, undefined, "/apis/apps/v1/deployments"],
    [namespaces, "ignored", "shop", "/api/v1/namespaces/shop"],
    [
      { ...deployments, group: "", resource: "configmaps" },
      "shop",
      "a:b",
      "/api/v1/namespaces/shop/configmaps/a%3Ab",
    ],
  ])("%o in %s named %s", (resource, namespace, name, expected) => {
    expect(resourcePath(resource, namespace, name)).toBe(expected);
  });

  it("names types as resource.group, core types by resource alone", () => {
    expect(groupResource(deployments)).toBe("deployments.apps");
    expect(groupResource(namespaces)).toBe("namespaces");
  });

  it("splits apiVersions and describes objects for messages", () => {
    expect(splitApiVersion("v1")).toEqual({ group: "", version: "v1" });
    expect(splitApiVersion("apps/v1")).toEqual({ group: "apps", version: "v1" });
    expect(
      describeObject({
        apiVersion: "apps/v1",
        kind: "StatefulSet",
        metadata: { name: "db", namespace: "shop" },
      }),
    ).toBe("apps/v1 StatefulSet shop/db");
    expect(describeObject({ apiVersion: "v1", kind: "Namespace", metadata: { name: "shop" } })).toBe(
      "v1 Namespace shop",
    );
  });
});
