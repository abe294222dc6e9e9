import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConflictError, ValidationError } from "../../../functions/lib/errors.ts";
import { setActivation } from "../../../functions/lib/kube/activate/activation.ts";
import { type ApplyOptions, applyResources } from "../../../functions/lib/kube/apply/apply-resources.ts";
import { withoutNodePorts } from "../../../functions/lib/kube/apply/node-ports.ts";
import { exportResources } from "../../../functions/lib/kube/export/export-resources.ts";
import { describeObject, type KubeObject } from "../../../functions/lib/kube/objects.ts";
import {
  NO_TRANSFORMS,
  type TransformOptions,
  transformObject,
} from "../../../functions/lib/kube/transform/transform-object.ts";
import { waitFor } from "../../env/clusters.ts";
import { startDenyingWebhook } from "./denying-webhook.ts";
import { expectSubset, getObject, type KubeTestEnv, list, seed, startKubeTestEnv } from "./kube-test-env.ts";
import { SHOP, shopObjects } from "./shop-app.ts";

let test: KubeTestEnv;
let exported: Awaited<ReturnType<typeof exportResources>>;

const transformsInto = (namespace: string, standby = false): TransformOptions => ({
  ...NO_TRANSFORMS,
  namespaceMapping: { [SHOP]: namespace },
  storageClassMapping: { "sim-fast": "dest-fast" },
  imageRegistryMapping: { "registry.local/": "ecr.example.com/" },
  standby,
});
const optionsInto = (namespace: string, overrides: Partial<ApplyOptions> = {}): ApplyOptions => ({
  existingResources: "update",
  dryRun: false,
  failFast: false,
  transforms: transformsInto(namespace),
  ...overrides,
});
/** The group resource of an exported object, as the transforms receive it. */
const groupResourceOf = (object: KubeObject) =>
  `${object.kind.toLowerCase()}s.${object.apiVersion.split("/")[0]}`;

beforeAll(async () => {
  test = await startKubeTestEnv();
  await seed(test.source, shopObjects("sim-fast"));
  // Controllers have made the children that must not be copied.
  await waitFor("web's ReplicaSet and the StatefulSet's pods on the source", async () => {
    const pods = await list(test.source, `/api/v1/namespaces/${SHOP}/pods`);
    const replicaSets = await list(test.source, `/apis/apps/v1/namespaces/${SHOP}/replicasets`);
    return pods.length >= 4 && replicaSets.length >= 1;
  });
  // Another workload already holds node port 30080 on the destination.
  await seed(test.destination, [
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "port-holder", namespace: "default" },
      spec: { type: "NodePort", selector: { app: "x" }, ports: [{ port: 80, nodePort: 30080 }] },
    },
  ]);
  exported = await exportShop();
});

/** The node shim's kwok Exec objects are test machinery, not part of the app. */
const exportShop = () =>
  exportResources(test.source, { namespaces: [SHOP], excludeResources: ["*.kwok.x-k8s.io"] });

afterAll(async () => {
  await test?.stop();
});

describe("export", () => {
  it("takes every object of the app and nothing the destination recreates", () => {
    const names = exported.objects.map((object) => describeObject(object)).sort();
    expect(names).toEqual(
      [
        "apiextensions.k8s.io/v1 CustomResourceDefinition widgets.example.com",
        "apps/v1 Deployment shop/web",
        "apps/v1 StatefulSet shop/db",
        "autoscaling/v2 HorizontalPodAutoscaler shop/web",
        "batch/v1 CronJob shop/nightly-report",
        "example.com/v1 Widget shop/blue",
        "example.com/v1 Widget shop/red",
        "networking.k8s.io/v1 Ingress shop/web",
        "networking.k8s.io/v1 NetworkPolicy shop/db-from-web",
        "policy/v1 PodDisruptionBudget shop/db",
        "rbac.authorization.k8s.io/v1 Role shop/config-reader",
        "rbac.authorization.k8s.io/v1 RoleBinding shop/app-config-reader",
        "v1 ConfigMap shop/app-config",
        "v1 Namespace shop",
        "v1 PersistentVolumeClaim shop/data-db-0",
        "v1 PersistentVolumeClaim shop/data-db-1",
        "v1 Secret shop/db-credentials",
        "v1 Service shop/admin-public",
        "v1 Service shop/db",
        "v1 Service shop/web",
        "v1 Service shop/web-public",
        "v1 ServiceAccount shop/app",
        "v1 ServiceAccount shop/default",
      ].sort(),
    );
    const skippedKinds = new Set(exported.skipped.map((entry) => entry.kind));
    for (const kind of ["Pod", "ReplicaSet", "ControllerRevision", "EndpointSlice"])
      expect(skippedKinds).toContain(kind);
    expect(exported.skipped).toContainEqual(
      expect.objectContaining({
        kind: "ConfigMap",
        name: "kube-root-ca.crt",
        reason: expect.stringContaining("kube-root-ca.crt"),
      }),
    );
    expect(exported.summary["v1 Service"]).toBe(4);
  });

  it("keeps only the included types (globs over resource.group), plus the namespace", async () => {
    const only = await exportResources(test.source, {
      namespaces: [SHOP],
      includeResources: ["configmaps", "*.example.com"],
    });
    expect(only.objects.map((object) => describeObject(object)).sort()).toEqual([
      "apiextensions.k8s.io/v1 CustomResourceDefinition widgets.example.com",
      "example.com/v1 Widget shop/blue",
      "example.com/v1 Widget shop/red",
      "v1 ConfigMap shop/app-config",
      "v1 Namespace shop",
    ]);
  });

  it.each([
    ["includeResources", "includeResourceTypes", "widget.example.com"],
    ["excludeResources", "excludeResourceTypes", "deployment.apps"],
  ] as const)(
    "refuses a %s entry that matches no served type, naming the field and the entry",
    async (option, field, typo) => {
      const run = exportResources(test.source, { namespaces: [SHOP], [option]: ["configmaps", typo] });
      await expect(run).rejects.toBeInstanceOf(ValidationError);
      await expect(run).rejects.toThrow(`${field}: "${typo}" matches no resource type cluster`);
    },
  );

  it("lists with the label selector", async () => {
    const web = await exportResources(test.source, {
      namespaces: [SHOP],
      selector: "app=web",
      excludeResources: ["*.kwok.x-k8s.io"],
    });
    expect(web.objects.map((object) => describeObject(object)).sort()).toEqual([
      "apps/v1 Deployment shop/web",
      "v1 Namespace shop",
      "v1 Service shop/web",
    ]);
  });
});

describe("apply into a mapped namespace", () => {
  let report: Awaited<ReturnType<typeof applyResources>>;
  beforeAll(async () => {
    report = await applyResources(test.destination, exported.objects, optionsInto("shop-dr"));
  });

  it("creates every object and reports it", () => {
    expect(report.status).toBe("Successful");
    expect(report.objects).toHaveLength(exported.objects.length);
    // The destination's controller makes the namespace's default ServiceAccount too: whichever
    // comes first creates it, and kubeferry's copy is merged with it.
    const isDefaultAccount = (object: { kind: string; name: string }) =>
      object.kind === "ServiceAccount" && object.name === "default";
    expect(
      report.objects.filter((object) => object.status !== "Created" && !isDefaultAccount(object)),
    ).toEqual([]);
    expect(["Created", "Updated"]).toContain(report.objects.find(isDefaultAccount)?.status);
    expect(report.objects).toContainEqual({
      group: "apps",
      version: "v1",
      kind: "StatefulSet",
      namespace: "shop-dr",
      name: "db",
      status: "Created",
    });
  });

  it("makes each object equal to the transformed source, field by field", async () => {
    for (const source of exported.objects) {
      let expected = transformObject(source, groupResourceOf(source), transformsInto("shop-dr"));
      if (source.metadata.name === "web-public") expected = withoutNodePorts(expected);
      const actual = await getObject(test.destination, expected);
      expect(actual, describeObject(expected)).toBeDefined();
      expectSubset(actual, expected, describeObject(expected));
    }
  });

  it("applied the transforms: namespace in RoleBinding subjects, storage class, images", async () => {
    const binding = await getObject(test.destination, {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: "app-config-reader", namespace: "shop-dr" },
    });
    expect(binding?.subjects).toEqual([{ kind: "ServiceAccount", name: "app", namespace: "shop-dr" }]);
    const statefulSet = await getObject(test.destination, {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: { name: "db", namespace: "shop-dr" },
    });
    const spec = statefulSet?.spec as {
      volumeClaimTemplates: Array<{ spec: { storageClassName: string } }>;
      template: { spec: { containers: Array<{ image: string }> } };
    };
    expect(spec.volumeClaimTemplates[0]?.spec.storageClassName).toBe("dest-fast");
    expect(spec.template.spec.containers[0]?.image).toBe("ecr.example.com/postgres:16");
  });

  it("gives Services destination cluster IPs, keeps headless ones headless, and moves a taken node port", async () => {
    const service = async (cluster: KubeTestEnv["source"], namespace: string, name: string) =>
      (await getObject(cluster, { apiVersion: "v1", kind: "Service", metadata: { name, namespace } }))
        ?.spec as {
        clusterIP: string;
        ports: Array<{ nodePort?: number }>;
      };
    const [sourceWeb, destinationWeb] = [
      await service(test.source, SHOP, "web"),
      await service(test.destination, "shop-dr", "web"),
    ];
    expect(destinationWeb.clusterIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(destinationWeb.clusterIP).not.toBe(sourceWeb.clusterIP);
    expect((await service(test.destination, "shop-dr", "db")).clusterIP).toBe("None");
    expect((await service(test.destination, "shop-dr", "admin-public")).ports[0]?.nodePort).toBe(30081);
    const moved = (await service(test.destination, "shop-dr", "web-public")).ports[0]?.nodePort;
    expect(moved).toBeGreaterThan(0);
    expect(moved).not.toBe(30080);
    expect(report.warnings).toEqual([
      "v1 Service shop-dr/web-public: node port 30080 is taken or out of range on cluster destination; the destination assigned another",
    ]);
  });

  it("copied no controller-owned child: those on the destination are its controllers' own", async () => {
    for (const path of [
      "/api/v1/namespaces/shop-dr/pods",
      "/apis/apps/v1/namespaces/shop-dr/replicasets",
      "/apis/apps/v1/namespaces/shop-dr/controllerrevisions",
      "/apis/discovery.k8s.io/v1/namespaces/shop-dr/endpointslices",
    ]) {
      for (const child of await list(test.destination, path)) {
        const managers = (child.metadata.managedFields as Array<{ manager: string }> | undefined)?.map(
          (entry) => entry.manager,
        );
        expect(managers, `${path}/${child.metadata.name}`).not.toContain("kubeferry");
      }
    }
  });

  it("changes nothing when run again under skip", async () => {
    const before = await resourceVersions("shop-dr");
    const again = await applyResources(
      test.destination,
      exported.objects,
      optionsInto("shop-dr", { existingResources: "skip" }),
    );
    expect(again.status).toBe("Successful");
    // The default ServiceAccount is merged under every policy; merging it again is a no-op.
    expect(again.objects.filter((object) => object.status !== "Skipped")).toEqual([
      {
        group: "",
        version: "v1",
        kind: "ServiceAccount",
        namespace: "shop-dr",
        name: "default",
        status: "Unchanged",
      },
    ]);
    expect(await resourceVersions("shop-dr")).toEqual(before);
  });

  it("converges changed objects under update, over other managers' edits", async () => {
    // The source changed; someone also edited the destination's copy by hand.
    await seed(test.source, [
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "app-config", namespace: SHOP },
        data: { "app.properties": "colour=green\n" },
      },
    ]);
    await seed(
      test.destination,
      [
        {
          apiVersion: "example.com/v1",
          kind: "Widget",
          metadata: { name: "red", namespace: "shop-dr" },
          spec: { size: 99 },
        },
      ],
      "kubectl-edit",
    );
    const fresh = await exportShop();
    const updated = await applyResources(test.destination, fresh.objects, optionsInto("shop-dr"));
    expect(updated.status).toBe("Successful");
    const configMap = await getObject(test.destination, {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "app-config", namespace: "shop-dr" },
    });
    expect(configMap?.data).toEqual({ "app.properties": "colour=green\n" });
    const widget = await getObject(test.destination, {
      apiVersion: "example.com/v1",
      kind: "Widget",
      metadata: { name: "red", namespace: "shop-dr" },
    });
    expect(widget?.spec).toEqual({ size: 5, colour: "red" });
  });

  it("stops with a ConflictError naming the object under fail", async () => {
    const run = applyResources(
      test.destination,
      exported.objects,
      optionsInto("shop-dr", { existingResources: "fail" }),
    );
    await expect(run).rejects.toThrow(ConflictError);
    await expect(run).rejects.toThrow(
      /^apiextensions\.k8s\.io\/v1 CustomResourceDefinition widgets\.example\.com already exists on cluster destination/,
    );
  });

  it("reports in a dry run what would change, and writes nothing", async () => {
    const dry = await applyResources(
      test.destination,
      exported.objects,
      optionsInto("shop-dr", { dryRun: true }),
    );
    const byName = (name: string, kind: string) =>
      dry.objects.find((object) => object.name === name && object.kind === kind);
    // The exported ConfigMap is the old (blue) one; the destination has green.
    expect(byName("app-config", "ConfigMap")?.status).toBe("WouldUpdate");
    expect(byName("db", "StatefulSet")?.status).toBe("Unchanged");
    const configMap = await getObject(test.destination, {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "app-config", namespace: "shop-dr" },
    });
    expect(configMap?.data).toEqual({ "app.properties": "colour=green\n" });

    const intoNew = await applyResources(
      test.destination,
      exported.objects,
      optionsInto("shop-preview", { dryRun: true }),
    );
    expect(intoNew.objects.filter((object) => object.status === "Failed")).toEqual([]);
    expect(intoNew.status).toBe("Successful");
    expect(intoNew.objects.find((object) => object.kind === "Namespace")?.status).toBe("WouldCreate");
    expect(
      await getObject(test.destination, {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: "shop-preview" },
      }),
    ).toBeUndefined();
  });
});

describe("an object the destination refuses", () => {
  it("gives PartialSuccess with that object and the server's reason, and applies the rest", async () => {
    await seed(test.destination, [
      { apiVersion: "v1", kind: "Namespace", metadata: { name: "shop-quota" } },
      {
        apiVersion: "v1",
        kind: "ResourceQuota",
        metadata: { name: "no-secrets", namespace: "shop-quota" },
        spec: { hard: { secrets: "0" } },
      },
    ]);
    const report = await applyResources(test.destination, exported.objects, optionsInto("shop-quota"));
    expect(report.status).toBe("PartialSuccess");
    const failed = report.objects.filter((object) => object.status === "Failed");
    expect(failed).toEqual([
      expect.objectContaining({
        kind: "Secret",
        namespace: "shop-quota",
        name: "db-credentials",
        reason: expect.stringMatching(/forbidden|quota/i),
      }),
    ]);
    const others = report.objects.filter((object) => object.name !== "db-credentials");
    expect(others).toHaveLength(exported.objects.length - 1);
    expect(others.filter((object) => object.status !== "Created" && object.status !== "Updated")).toEqual([]);
  });

  it("reports the reason an admission webhook gives", async () => {
    const webhook = await startDenyingWebhook(
      "shop-webhook",
      "forbidden",
      "ConfigMap forbidden is refused by policy P-7",
    );
    try {
      await seed(test.destination, [
        { apiVersion: "v1", kind: "Namespace", metadata: { name: "shop-webhook" } },
        webhook.configuration,
      ]);
      // The API server picks up a new webhook configuration within moments.
      await waitFor("the webhook to be called", async () => {
        const probe = test.destination.request({
          method: "POST",
          path: "/api/v1/namespaces/shop-webhook/configmaps",
          query: { dryRun: "All" },
          body: { metadata: { name: "forbidden" } },
        });
        return probe.then(
          () => false,
          (error: Error) => error.message.includes("P-7"),
        );
      });
      const forbidden: KubeObject = {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "forbidden", namespace: SHOP },
        data: { a: "b" },
      };
      const report = await applyResources(
        test.destination,
        [...exported.objects, forbidden],
        optionsInto("shop-webhook"),
      );
      expect(report.status).toBe("PartialSuccess");
      expect(report.objects.filter((object) => object.status === "Failed")).toEqual([
        expect.objectContaining({
          kind: "ConfigMap",
          name: "forbidden",
          reason: expect.stringContaining("refused by policy P-7"),
        }),
      ]);
      expect(report.objects.find((object) => object.name === "app-config")?.status).toBe("Created");
    } finally {
      await test.destination.request({
        method: "DELETE",
        path: "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/deny-forbidden",
      });
      await webhook.close();
    }
  });

  it("gives Failed and stops at the refusal under failFast", async () => {
    const report = await applyResources(
      test.destination,
      exported.objects,
      optionsInto("shop-quota", { failFast: true }),
    );
    expect(report.status).toBe("Failed");
    const index = report.objects.findIndex((object) => object.status === "Failed");
    expect(report.objects[index]?.name).toBe("db-credentials");
    expect(report.objects.slice(index + 1).every((object) => object.status === "Skipped")).toBe(true);
  });
});

describe("standby, activate, deactivate", () => {
  const workloads = async () => {
    const get = (apiVersion: string, kind: string, name: string) =>
      getObject(test.destination, { apiVersion, kind, metadata: { name, namespace: "shop-standby" } });
    const [deployment, statefulSet, cronJob] = await Promise.all([
      get("apps/v1", "Deployment", "web"),
      get("apps/v1", "StatefulSet", "db"),
      get("batch/v1", "CronJob", "nightly-report"),
    ]);
    return {
      web: [
        (deployment?.spec as { replicas?: number } | undefined)?.replicas,
        deployment?.metadata.annotations?.["kubeferry.io/original-replicas"],
      ],
      db: [
        (statefulSet?.spec as { replicas?: number } | undefined)?.replicas,
        statefulSet?.metadata.annotations?.["kubeferry.io/original-replicas"],
      ],
      report: [
        (cronJob?.spec as { suspend?: boolean } | undefined)?.suspend,
        cronJob?.metadata.annotations?.["kubeferry.io/original-suspend"],
      ],
    };
  };
  const standby = { web: [0, "2"], db: [0, "2"], report: [true, "false"] };
  const active = { web: [2, undefined], db: [2, undefined], report: [false, undefined] };

  it("round-trips replicas and CronJob suspension exactly", async () => {
    const applied = await applyResources(test.destination, exported.objects, {
      ...optionsInto("shop-standby"),
      transforms: transformsInto("shop-standby", true),
    });
    expect(applied.status).toBe("Successful");
    expect(await workloads()).toEqual(standby);

    const activated = await setActivation(test.destination, ["shop-standby"], "activate");
    expect(
      activated
        .filter((entry) => entry.status === "Changed")
        .map((entry) => entry.name)
        .sort(),
    ).toEqual(["db", "nightly-report", "web"]);
    expect(await workloads()).toEqual(active);
    const again = await setActivation(test.destination, ["shop-standby"], "activate");
    expect(again.every((entry) => entry.status === "Unchanged")).toBe(true);

    await setActivation(test.destination, ["shop-standby"], "deactivate");
    expect(await workloads()).toEqual(standby);
    expect(
      (await setActivation(test.destination, ["shop-standby"], "deactivate")).every(
        (entry) => entry.status === "Unchanged",
      ),
    ).toBe(true);

    await setActivation(test.destination, ["shop-standby"], "activate");
    expect(await workloads()).toEqual(active);
  });
});

/** name → resourceVersion of every exported object's copy in a destination namespace. */
async function resourceVersions(namespace: string): Promise<Record<string, string | undefined>> {
  const versions: Record<string, string | undefined> = {};
  for (const source of exported.objects) {
    const target = transformObject(source, groupResourceOf(source), transformsInto(namespace));
    const actual = await getObject(test.destination, target);
    versions[describeObject(target)] = actual?.metadata.resourceVersion as string | undefined;
  }
  return versions;
}
