import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../../../functions/lib/kube/objects.ts";
import type { PairRecord } from "../../../../functions/lib/kube/pairing/pairs.ts";
import { drillObjects, narrowStagePlan } from "../../../../functions/lib/workflow/drill/drill-plan.ts";
import {
  drillPair,
  scratchNamespace,
  scratchNamespaces,
} from "../../../../functions/lib/workflow/drill/scratch-namespaces.ts";
import { destinationNamespace } from "../../../../functions/lib/workflow/pair-access.ts";
import { migrationRequestSchema } from "../../../../functions/lib/workflow/request.ts";
import type { StagePlan } from "../../../../functions/lib/workflow/volume-state.ts";

const dnsLabel = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

const pair = {
  name: "onprem-to-west",
  source: "source",
  destination: "destination",
  namespaceMapping: { shop: "shop-dr" },
  storageClassMapping: {},
} as unknown as PairRecord;

const runOf = (request: Record<string, unknown>) => ({
  id: "drill-20261203t0400z",
  request: migrationRequestSchema.parse({ pair: pair.name, ...request }),
});

describe("scratch namespaces", () => {
  it("are the mapped namespace, -drill- and 8 hex of the run: the same for every step, another for another run", () => {
    const name = scratchNamespace("shop-dr", "run-1");
    expect(name).toMatch(/^shop-dr-drill-[0-9a-f]{8}$/);
    expect(scratchNamespace("shop-dr", "run-1")).toBe(name);
    expect(scratchNamespace("shop-dr", "run-2")).not.toBe(name);
  });

  it("stay DNS labels of at most 63 characters for the longest namespace names", () => {
    const longest = `${"a".repeat(47)}-${"b".repeat(15)}`;
    expect(longest).toHaveLength(63);
    const name = scratchNamespace(longest, "run-1");
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).toMatch(dnsLabel);
    expect(name).not.toContain("--drill");
  });

  it("replace the pair's destination namespaces for a drill only; the standby's namespace is never named", () => {
    const drill = runOf({ namespaces: ["shop", "crm"], drill: {} });
    const mapped = drillPair(pair, drill);
    expect(destinationNamespace(mapped, "shop")).toBe(scratchNamespace("shop-dr", drill.id));
    expect(destinationNamespace(mapped, "crm")).toBe(scratchNamespace("crm", drill.id));
    expect(scratchNamespaces(pair, drill)).toEqual([
      scratchNamespace("shop-dr", drill.id),
      scratchNamespace("crm", drill.id),
    ]);
    // Untouched: the pair record itself, and any run that is no drill.
    expect(destinationNamespace(pair, "shop")).toBe("shop-dr");
    expect(drillPair(pair, runOf({ namespaces: ["shop"] }))).toBe(pair);
  });
});

const volume = (namespace: string, pvc: string) =>
  ({
    source: {
      namespace,
      pvc,
      snapshot: "s",
      volumeBytes: 8,
      volumeMode: "Block",
      storageClass: "fast",
      accessModes: ["ReadWriteOnce"],
      requestedStorage: "8",
      labels: {},
    },
    transport: "block",
    reason: "block copy",
    target: { cluster: "c", namespace: "kubeferry-system", pod: "p", container: "c", volume: "v" },
    chunkBytes: 4,
    rangeCount: 2,
  }) as StagePlan["volumes"][number];
const range = (index: number) => ({ index, firstChunk: index, chunkCount: 1, offset: index * 4, length: 4 });

describe("a drill's part of a committed run", () => {
  it("keeps the requested namespaces' volumes and renumbers their items to the narrowed plan", () => {
    const staged = {
      plan: { version: 1 as const, volumes: [volume("crm", "a"), volume("shop", "b"), volume("shop", "c")] },
      items: [
        { volume: 0, range: range(0) },
        { volume: 1, range: range(0) },
        { volume: 1, range: range(1) },
        { volume: 2, slice: 0 },
      ],
    };
    const narrowed = narrowStagePlan(staged, new Set(["shop"]));
    expect(narrowed.plan.volumes.map((v) => v.source.pvc)).toEqual(["b", "c"]);
    expect(narrowed.items).toEqual([
      { volume: 0, range: range(0) },
      { volume: 0, range: range(1) },
      { volume: 1, slice: 0 },
    ]);
    expect(narrowStagePlan(staged, new Set(["crm", "shop"]))).toEqual(staged);
  });

  it("applies only the namespaced objects of the requested namespaces: no cluster-scoped object, no Namespace", () => {
    const object = (kind: string, name: string, namespace?: string): KubeObject => ({
      apiVersion: "v1",
      kind,
      metadata: { name, ...(namespace ? { namespace } : {}) },
    });
    const objects = [
      object("Namespace", "shop"),
      object("ClusterRole", "shop-reader"),
      object("ConfigMap", "config", "shop"),
      object("ConfigMap", "config", "crm"),
      object("StatefulSet", "db", "shop"),
    ];
    expect(drillObjects(objects, new Set(["shop"])).map((o) => `${o.kind} ${o.metadata.name}`)).toEqual([
      "ConfigMap config",
      "StatefulSet db",
    ]);
  });
});

describe("the drill request", () => {
  const check = { podSelector: "app=db", container: "db", command: ["pg_isready"] };

  it("defaults its checks' timeouts and the ready timeout", () => {
    expect(runOf({ namespaces: ["shop"], drill: { healthChecks: [check] } }).request.drill).toEqual({
      healthChecks: [{ ...check, timeoutSeconds: 60 }],
      readyTimeoutSeconds: 900,
    });
  });

  it("refuses checks that cannot all run in one invocation, a dry run, and an unknown field, naming them", () => {
    const slow = { ...check, timeoutSeconds: 500 };
    const refused = (drill: unknown, extra: Record<string, unknown> = {}) =>
      migrationRequestSchema.safeParse({ pair: "p", namespaces: ["shop"], drill, ...extra }).error?.issues;
    expect(refused({ healthChecks: [slow, slow] })).toEqual([
      expect.objectContaining({
        path: ["drill", "healthChecks"],
        message: expect.stringMatching(/add up to 1000/),
      }),
    ]);
    expect(refused({}, { dryRun: true })).toEqual([expect.objectContaining({ path: ["dryRun"] })]);
    expect(refused({ healthCheck: [check] })).toEqual([
      expect.objectContaining({ code: "unrecognized_keys", path: ["drill"] }),
    ]);
    expect(refused({ readyTimeoutSeconds: 7200 })).toEqual([
      expect.objectContaining({ path: ["drill", "readyTimeoutSeconds"] }),
    ]);
  });
});
