import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { PairingError, ValidationError } from "../../../functions/lib/errors.ts";
import {
  type ClusterClient,
  createClusterClient,
} from "../../../functions/lib/kube/client/cluster-client.ts";
import { connectCluster } from "../../../functions/lib/kube/client/cluster-source.ts";
import type { KubeObject } from "../../../functions/lib/kube/objects.ts";
import { checkPair, createPair, PairStore } from "../../../functions/lib/kube/pairing/pairs.ts";
import {
  DESTINATION_PERMISSIONS,
  type Permission,
  SOURCE_PERMISSIONS,
} from "../../../functions/lib/kube/pairing/required-permissions.ts";
import { FilesystemBlobStore } from "../../../functions/lib/repository/filesystem-blob-store.ts";
import { listObjects, paths } from "../../../functions/lib/volumes/kube-calls.ts";
import { RUN_LABEL } from "../../../functions/lib/volumes/names.ts";
import { freeLoopbackPorts } from "../../env/free-ports.ts";
import { limitedUser } from "../../env/manifests/cluster-objects.ts";
import { type MotoServer, startMoto } from "../../env/moto.ts";
import { type KubeTestEnv, seed, startKubeTestEnv } from "./kube-test-env.ts";

let test: KubeTestEnv;
let pairsDir: string;
let pairs: PairStore;
const opened: ClusterClient[] = [];
const now = new Date("2026-11-26T06:00:00Z");
const mapping = { "sim-fast": "dest-fast", "sim-retain": "dest-retain" };

/** A client for `server` trusting the local cluster's CA, authenticated with `token`. */
async function clientWith(
  name: string,
  server: string,
  caCertPath: string,
  token: string,
): Promise<ClusterClient> {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [
      { name, server, caData: (await readFile(caCertPath)).toString("base64"), skipTLSVerify: false },
    ],
    users: [{ name, token }],
    contexts: [{ name, cluster: name, user: name }],
    currentContext: name,
  });
  const client = await createClusterClient(kubeConfig, { name, retry: { maxAttempts: 1 } });
  opened.push(client);
  return client;
}

beforeAll(async () => {
  test = await startKubeTestEnv();
  pairsDir = await mkdtemp(join(tmpdir(), "kubeferry-pairs-"));
  pairs = new PairStore(new FilesystemBlobStore(pairsDir));
  // A claim in use on the source, so its storage class must be mapped.
  await seed(test.source, namespaceWithClaim("shop", "data", "sim-fast"));
});

function namespaceWithClaim(namespace: string, name: string, storageClassName: string) {
  return [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } },
    {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name, namespace },
      spec: { accessModes: ["ReadWriteOnce"], storageClassName, resources: { requests: { storage: "1Gi" } } },
    },
  ];
}

afterAll(async () => {
  for (const client of opened) client.close();
  await test?.stop();
  if (pairsDir) await rm(pairsDir, { recursive: true, force: true });
});

describe("pairs", () => {
  it("pass every check between the two clusters, and are stored, checked again, listed and deleted", async () => {
    const record = await createPair(
      pairs,
      { name: "onprem-to-west", source: "source", destination: "destination", storageClassMapping: mapping },
      test,
      now,
    );
    expect(record.checks.filter((check) => !check.passed)).toEqual([]);
    expect(record.checks.map((check) => check.name)).toEqual([
      "source-reachable",
      "source-credentials",
      "source-version",
      "destination-reachable",
      "destination-credentials",
      "destination-version",
      "source-permissions",
      "destination-permissions",
      "distinct-clusters",
      "snapshot-api",
      "snapshot-class",
      "storage-class-mapping",
    ]);
    expect(record.checks.find((check) => check.name === "storage-class-mapping")?.reason).toContain(
      "sim-fast → dest-fast",
    );
    expect(await pairs.get("onprem-to-west")).toEqual(record);

    const later = new Date(now.getTime() + 60_000);
    const checked = await checkPair(pairs, "onprem-to-west", test, later);
    expect(checked.checkedAt).toBe(later.toISOString());
    expect(checked.createdAt).toBe(now.toISOString());
    expect((await pairs.list()).map((pair) => pair.name)).toEqual(["onprem-to-west"]);

    // A run checks only its own namespaces' classes: an unmapped class elsewhere fails the
    // cluster-wide check, not a run of shop.
    await seed(test.source, namespaceWithClaim("elsewhere", "cold", "unmapped-class"));
    const scoped = await checkPair(pairs, "onprem-to-west", test, later, { namespaces: ["shop"] });
    expect(scoped.checks.every((check) => check.passed)).toBe(true);
    await expect(checkPair(pairs, "onprem-to-west", test, later)).rejects.toThrow(
      /"unmapped-class" \(used by PVC elsewhere\/cold\)/,
    );
    await test.source.request({
      method: "DELETE",
      path: "/api/v1/namespaces/elsewhere/persistentvolumeclaims/cold",
    });

    await pairs.delete("onprem-to-west");
    expect(await pairs.list()).toEqual([]);
  });

  it.each<
    [
      string,
      () => Promise<{ source: ClusterClient; destination: ClusterClient }>,
      Record<string, string>,
      RegExp,
    ]
  >([
    [
      "a bad token",
      async () => ({
        source: test.source,
        destination: await clientWith(
          "destination",
          test.env.get("destination").server,
          test.env.get("destination").caCertPath,
          "not-a-token",
        ),
      }),
      mapping,
      /check destination-credentials failed: cluster destination rejected the credentials \(401\)/,
    ],
    [
      "an unreachable endpoint",
      async () => {
        const [port] = await freeLoopbackPorts(1);
        return {
          source: test.source,
          destination: await clientWith(
            "destination",
            `https://127.0.0.1:${port}`,
            test.env.get("destination").caCertPath,
            "x",
          ),
        };
      },
      mapping,
      /check destination-reachable failed: cluster destination: GET \/version failed: cannot reach the API server \(ECONNREFUSED/,
    ],
    [
      "the same cluster twice",
      async () => ({ source: test.source, destination: test.source }),
      { "sim-fast": "sim-fast" },
      /check distinct-clusters failed: source and source are the same cluster/,
    ],
    [
      "an unmapped storage class",
      async () => ({ source: test.source, destination: test.destination }),
      {},
      /check storage-class-mapping failed: no such storage class on destination for "sim-fast" \(used by PVC shop\/data\) → "sim-fast"; map each to one of: /,
    ],
    [
      "a token without the permissions a run needs",
      async () => ({
        source: await clientWith(
          "source",
          test.env.get("source").server,
          test.env.get("source").caCertPath,
          test.env.get("source").limitedToken,
        ),
        destination: test.destination,
      }),
      mapping,
      /check source-permissions failed: the identity used for cluster source lacks: list customresourcedefinitions.apiextensions.k8s.io cluster-wide \(export of custom resources\), /,
    ],
  ])("fail with their own PairingError for %s", async (_, clients, storageClassMapping, message) => {
    const name = `bad-${Math.random().toString(36).slice(2, 8)}`;
    const create = createPair(
      pairs,
      { name, source: "source", destination: "destination", storageClassMapping },
      await clients(),
      now,
    );
    await expect(create).rejects.toThrow(PairingError);
    await expect(create).rejects.toThrow(message);
    // The record is kept with its failed check, so `list` shows why.
    expect((await pairs.get(name))?.checks.some((check) => !check.passed)).toBe(true);
  });

  it("probe a custom helper image on both clusters in a pod of that image, and leave nothing", async () => {
    // What an image lacking a tool makes the probe say is in test/unit/volumes/helper-image-probe.test.ts:
    // here every pod's exec runs busybox, whose standalone shell finds any applet.
    const mirrored = await createPair(
      pairs,
      {
        name: "mirrored-image",
        source: "source",
        destination: "destination",
        storageClassMapping: mapping,
        helperImage: "registry.example/mirror/busybox:1.36.1",
      },
      test,
      now,
    );
    expect(mirrored.checks.filter((check) => check.name.endsWith("-helper-image"))).toEqual([
      expect.objectContaining({ name: "source-helper-image", passed: true }),
      expect.objectContaining({ name: "destination-helper-image", passed: true }),
    ]);
    for (const client of [test.source, test.destination]) {
      expect(await listObjects(client, paths.pods("kubeferry-system"), RUN_LABEL)).toEqual([]);
    }
  });

  it("fail with their own PairingError when the source has no VolumeSnapshotClass", async () => {
    const path = "/apis/snapshot.storage.k8s.io/v1/volumesnapshotclasses";
    const { body } = await test.source.request<{
      items: Array<{
        metadata: { name: string; annotations?: Record<string, string> };
        driver: string;
        deletionPolicy: string;
      }>;
    }>({ method: "GET", path });
    for (const item of body.items)
      await test.source.request({ method: "DELETE", path: `${path}/${item.metadata.name}` });
    try {
      await expect(
        createPair(
          pairs,
          {
            name: "no-snapshots",
            source: "source",
            destination: "destination",
            storageClassMapping: mapping,
          },
          test,
          now,
        ),
      ).rejects.toThrow(
        /^pair no-snapshots: check snapshot-class failed: cluster source has no VolumeSnapshotClass/,
      );
    } finally {
      await seed(
        test.source,
        body.items.map(({ metadata: { name, annotations }, driver, deletionPolicy }) => ({
          apiVersion: "snapshot.storage.k8s.io/v1",
          kind: "VolumeSnapshotClass",
          metadata: { name, ...(annotations ? { annotations } : {}) },
          driver,
          deletionPolicy,
        })),
      );
    }
  });
});

describe("the roles in deploy/rbac", () => {
  /** Binds a deploy/rbac ClusterRole to the cluster's limited user, the identity of a real registration. */
  async function bindRole(side: "source" | "destination") {
    const role = parse(
      await readFile(
        join(import.meta.dirname, "..", "..", "..", "deploy", "rbac", `kubeferry-${side}.yaml`),
        "utf8",
      ),
    ) as KubeObject;
    const client = side === "source" ? test.source : test.destination;
    await seed(client, [
      role,
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRoleBinding",
        metadata: { name: `kubeferry-${side}` },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role.metadata.name },
        subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: limitedUser }],
      },
    ]);
    const cluster = test.env.get(side);
    return clientWith(side, cluster.server, cluster.caCertPath, cluster.limitedToken);
  }

  it("are not needed cluster-wide: Roles in the data-mover namespace and the run's namespaces are enough", async () => {
    // What an SRE who grants least privilege binds: cluster-wide only what is cluster-wide, and
    // the rest as Roles where kubeferry works. Reviews asked cluster-wide would refuse this.
    const rules = (permissions: readonly Permission[]) =>
      permissions.map((p) => ({
        apiGroups: [p.group],
        resources: [p.subresource ? `${p.resource}/${p.subresource}` : p.resource],
        verbs: [p.verb],
      }));
    const subjects = [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: limitedUser }];
    const bind = (kind: "Role" | "ClusterRole", name: string, namespace?: string) => ({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: `${kind}Binding`,
      metadata: { name, ...(namespace ? { namespace } : {}) },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind, name },
      subjects,
    });
    const clients: Record<string, ClusterClient> = {};
    for (const [side, permissions] of [
      ["source", SOURCE_PERMISSIONS],
      ["destination", DESTINATION_PERMISSIONS],
    ] as const) {
      const objects: KubeObject[] = [
        { apiVersion: "v1", kind: "Namespace", metadata: { name: "kubeferry-system" } },
        { apiVersion: "v1", kind: "Namespace", metadata: { name: "shop" } },
        {
          apiVersion: "rbac.authorization.k8s.io/v1",
          kind: "ClusterRole",
          metadata: { name: "scoped-cluster-wide" },
          rules: rules(permissions.filter((p) => p.where === undefined)),
        },
        bind("ClusterRole", "scoped-cluster-wide"),
      ];
      for (const [where, namespace] of [
        ["data-mover", "kubeferry-system"],
        ["run", "shop"],
      ] as const) {
        objects.push(
          {
            apiVersion: "rbac.authorization.k8s.io/v1",
            kind: "Role",
            metadata: { name: `scoped-${where}`, namespace },
            rules: rules(permissions.filter((p) => p.where === where)),
          },
          bind("Role", `scoped-${where}`, namespace),
        );
      }
      await seed(side === "source" ? test.source : test.destination, objects);
      const cluster = test.env.get(side);
      clients[side] = await clientWith(side, cluster.server, cluster.caCertPath, cluster.limitedToken);
    }
    const scoped = {
      source: clients.source as ClusterClient,
      destination: clients.destination as ClusterClient,
    };
    const created = await createPair(
      pairs,
      { name: "scoped", source: "source", destination: "destination", storageClassMapping: mapping },
      scoped,
      now,
    );
    expect(created.checks.filter((check) => !check.passed)).toEqual([]);
    const run = await checkPair(pairs, "scoped", scoped, now, { namespaces: ["shop"] });
    expect(run.checks.filter((check) => !check.passed)).toEqual([]);
    // A run of a namespace the identity holds nothing in is refused before anything moves.
    await expect(checkPair(pairs, "scoped", scoped, now, { namespaces: ["shop", "other"] })).rejects.toThrow(
      /check source-permissions failed: .*lacks: get secrets in namespace other \(export\), .*create volumesnapshots.snapshot.storage.k8s.io in namespace other \(volume snapshots\)/,
    );
  });

  it("grant every permission the pairing checks ask for, exec as get and as create included", async () => {
    const clients = { source: await bindRole("source"), destination: await bindRole("destination") };
    expect(SOURCE_PERMISSIONS).toContainEqual(expect.objectContaining({ verb: "get", subresource: "exec" }));
    const pair = await createPair(
      pairs,
      { name: "least-privilege", source: "source", destination: "destination", storageClassMapping: mapping },
      clients,
      now,
    );
    expect(pair.checks.filter((check) => !check.passed)).toEqual([]);
  });
});

describe("clusters registered in Secrets Manager", () => {
  let moto: MotoServer;
  let secrets: SecretsManagerClient;
  beforeAll(async () => {
    moto = await startMoto();
    secrets = new SecretsManagerClient({
      endpoint: moto.endpoint,
      region: moto.region,
      credentials: moto.credentials,
    });
  });
  afterAll(async () => {
    secrets?.destroy();
    await moto?.stop();
  });

  it("connect with the kubeconfig a secret holds", async () => {
    const kubeconfig = await readFile(test.env.get("source").kubeconfigPath, "utf8");
    await secrets.send(
      new CreateSecretCommand({ Name: "kubeferry/clusters/source", SecretString: kubeconfig }),
    );
    const client = await connectCluster(
      { kind: "secret", secretId: "kubeferry/clusters/source" },
      { secretsManager: secrets },
      { name: "source" },
    );
    opened.push(client);
    const { body } = await client.request<{ major: string }>({ method: "GET", path: "/version" });
    expect(body.major).toBe("1");
  });

  it("name the bad field of an EKS reference", async () => {
    await secrets.send(
      new CreateSecretCommand({
        Name: "kubeferry/clusters/eks",
        SecretString: JSON.stringify({ type: "eks", cluster: "prod" }),
      }),
    );
    const connect = connectCluster(
      { kind: "secret", secretId: "kubeferry/clusters/eks" },
      { secretsManager: secrets },
      { name: "prod" },
    );
    await expect(connect).rejects.toThrow(ValidationError);
    await expect(connect).rejects.toThrow(/^cluster prod: secret kubeferry\/clusters\/eks: field "region"/);
  });
});
