import { describe, expect, it } from "vitest";
import { ValidationError } from "../../../functions/lib/errors.ts";
import type { KubeObject } from "../../../functions/lib/kube/objects.ts";
import { applyJsonPatch } from "../../../functions/lib/kube/transform/json-patch.ts";
import { applyMergePatch } from "../../../functions/lib/kube/transform/merge-patch.ts";
import {
  applyResourceModifiers,
  parseResourceModifiers,
} from "../../../functions/lib/kube/transform/resource-modifiers.ts";

describe("applyJsonPatch (RFC 6902)", () => {
  const doc = { a: { b: 1, "c/d": 2, "e~f": 3 }, list: [1, 2, 3] };
  it.each<[string, unknown[], unknown]>([
    ["add member", [{ op: "add", path: "/a/x", value: 9 }], { ...doc, a: { ...doc.a, x: 9 } }],
    ["add to array end", [{ op: "add", path: "/list/-", value: 4 }], { ...doc, list: [1, 2, 3, 4] }],
    ["insert into array", [{ op: "add", path: "/list/0", value: 0 }], { ...doc, list: [0, 1, 2, 3] }],
    [
      "escaped tokens",
      [
        { op: "remove", path: "/a/c~1d" },
        { op: "remove", path: "/a/e~0f" },
      ],
      { ...doc, a: { b: 1 } },
    ],
    ["replace array item", [{ op: "replace", path: "/list/1", value: 7 }], { ...doc, list: [1, 7, 3] }],
    ["remove array item", [{ op: "remove", path: "/list/0" }], { ...doc, list: [2, 3] }],
    ["move", [{ op: "move", from: "/a/b", path: "/moved" }], { ...doc, a: { "c/d": 2, "e~f": 3 }, moved: 1 }],
    ["copy", [{ op: "copy", from: "/list", path: "/a/list" }], { ...doc, a: { ...doc.a, list: [1, 2, 3] } }],
    ["replace root", [{ op: "replace", path: "", value: 5 }], 5],
  ])("%s", (_, operations, expected) => {
    expect(applyJsonPatch(doc, operations as never)).toEqual(expected);
    expect(doc.list).toEqual([1, 2, 3]);
  });

  it.each<[string, unknown[], string]>([
    [
      "replace of a missing member",
      [{ op: "replace", path: "/nope", value: 1 }],
      'path "/nope" does not exist',
    ],
    ["remove of a missing item", [{ op: "remove", path: "/list/5" }], 'path "/list/5" does not exist'],
    ["add under a missing parent", [{ op: "add", path: "/x/y", value: 1 }], 'path "/x" does not exist'],
    ["add past the array end", [{ op: "add", path: "/list/9", value: 1 }], "out of range"],
    ["failing test", [{ op: "test", path: "/a/b", value: 2 }], 'test at "/a/b" does not hold'],
  ])("refuses %s", (_, operations, message) => {
    expect(() => applyJsonPatch(doc, operations as never)).toThrow(message);
  });
});

describe("applyMergePatch (RFC 7386)", () => {
  it.each<[unknown, unknown, unknown]>([
    [{ a: "b" }, { a: "c" }, { a: "c" }],
    [{ a: "b" }, { b: "c" }, { a: "b", b: "c" }],
    [{ a: "b" }, { a: null }, {}],
    [{ a: { b: "c", d: "e" } }, { a: { d: null, f: 1 } }, { a: { b: "c", f: 1 } }],
    [{ a: [1, 2] }, { a: [3] }, { a: [3] }],
    [["x"], { a: "b" }, { a: "b" }],
    [{ a: "b" }, ["c"], ["c"]],
  ])("%j + %j", (target, patch, expected) => {
    expect(applyMergePatch(target, patch)).toEqual(expected);
  });
});

describe("parseResourceModifiers", () => {
  it.each<[string, unknown, string]>([
    ["not a list", { rules: [] }, "resourceModifiers: "],
    [
      "missing groupResource",
      [{ conditions: {}, patches: [] }],
      "resourceModifiers[0].conditions.groupResource",
    ],
    [
      "bad regex",
      [{ conditions: { groupResource: "pods", resourceNameRegex: "(" }, mergePatch: {} }],
      "resourceModifiers[0].conditions.resourceNameRegex: must be a valid regular expression",
    ],
    [
      "bad label selector",
      [{ conditions: { groupResource: "pods", labelSelector: "a in b" }, mergePatch: {} }],
      "resourceModifiers[0].conditions.labelSelector",
    ],
    [
      "bad JSON pointer",
      [{ conditions: { groupResource: "pods" }, patches: [{ op: "add", path: "spec", value: 1 }] }],
      "resourceModifiers[0].patches[0].path: must be a JSON pointer",
    ],
    [
      "unknown op",
      [{ conditions: { groupResource: "pods" }, patches: [{ op: "merge", path: "/a" }] }],
      "resourceModifiers[0].patches[0].op",
    ],
    [
      "both patch kinds",
      [{ conditions: { groupResource: "pods" }, patches: [{ op: "remove", path: "/a" }], mergePatch: {} }],
      "resourceModifiers[0]: give exactly one of patches",
    ],
    [
      "unknown field",
      [{ conditions: { groupResource: "pods", namespace: "x" }, mergePatch: {} }],
      "resourceModifiers[0].conditions",
    ],
  ])("names the field for %s", (_, input, message) => {
    expect(() => parseResourceModifiers(input)).toThrow(ValidationError);
    expect(() => parseResourceModifiers(input)).toThrow(message);
  });
});

describe("applyResourceModifiers", () => {
  const web: KubeObject = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web-frontend", namespace: "shop", labels: { tier: "frontend" } },
    spec: { replicas: 2 },
  };
  const patch = { mergePatch: { spec: { replicas: 9 } } };
  it.each<[string, Record<string, unknown>, string, number]>([
    ["group/resource glob matches", { groupResource: "*.apps" }, "deployments.apps", 9],
    ["group/resource glob misses", { groupResource: "*.batch" }, "deployments.apps", 2],
    ["name regex matches", { groupResource: "*", resourceNameRegex: "^web-" }, "deployments.apps", 9],
    ["name regex misses", { groupResource: "*", resourceNameRegex: "^api" }, "deployments.apps", 2],
    ["namespace matches", { groupResource: "*", namespaces: ["shop"] }, "deployments.apps", 9],
    ["namespace misses", { groupResource: "*", namespaces: ["other"] }, "deployments.apps", 2],
    [
      "selector matches",
      { groupResource: "*", labelSelector: "tier in (frontend,api)" },
      "deployments.apps",
      9,
    ],
    ["selector misses", { groupResource: "*", labelSelector: "tier!=frontend" }, "deployments.apps", 2],
  ])("%s", (_, conditions, type, replicas) => {
    const modifiers = parseResourceModifiers([{ conditions, ...patch }]);
    expect(applyResourceModifiers(modifiers, web, type).spec).toEqual({ replicas });
  });

  it("skips a rule whose test operation does not hold", () => {
    const modifiers = parseResourceModifiers([
      {
        conditions: { groupResource: "*" },
        patches: [
          { op: "test", path: "/spec/replicas", value: 5 },
          { op: "replace", path: "/spec/replicas", value: 1 },
        ],
      },
    ]);
    expect(applyResourceModifiers(modifiers, web, "deployments.apps")).toBe(web);
  });

  it("names the rule and object when a patch cannot apply", () => {
    const modifiers = parseResourceModifiers([
      { conditions: { groupResource: "*" }, patches: [{ op: "remove", path: "/spec/template" }] },
    ]);
    expect(() => applyResourceModifiers(modifiers, web, "deployments.apps")).toThrow(
      'resource modifier 0 cannot patch apps/v1 Deployment shop/web-frontend: path "/spec/template" does not exist',
    );
  });
});
