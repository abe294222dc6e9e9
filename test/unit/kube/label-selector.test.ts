import { describe, expect, it } from "vitest";
import { ValidationError } from "../../../functions/lib/errors.ts";
import { matchesGlob } from "../../../functions/lib/kube/glob.ts";
import { matchesLabels, parseLabelSelector } from "../../../functions/lib/kube/label-selector.ts";

describe("label selectors", () => {
  const labels = { app: "db", tier: "backend", "example.com/role": "primary" };
  it.each<[string, boolean]>([
    ["", true],
    ["app=db", true],
    ["app==db", true],
    ["app!=db", false],
    ["app=web", false],
    ["tier", true],
    ["!tier", false],
    ["!canary", true],
    ["tier in (backend, frontend)", true],
    ["tier notin (backend)", false],
    ["canary notin (yes)", true],
    ["example.com/role=primary,app=db", true],
    ["app=db, tier in (frontend,api)", false],
    ["app=", false],
  ])("%j matches: %s", (selector, expected) => {
    expect(matchesLabels(parseLabelSelector(selector, "selector"), labels)).toBe(expected);
  });

  it.each(["app=db=x", "tier in backend", "=db", "app in (a,b", "a b"])(
    "rejects %j naming the field",
    (selector) => {
      expect(() => parseLabelSelector(selector, "request.selector")).toThrow(ValidationError);
      expect(() => parseLabelSelector(selector, "request.selector")).toThrow(/^request\.selector: /);
    },
  );
});

describe("globs", () => {
  it.each<[string, string, boolean]>([
    ["deployments.apps", "deployments.apps", true],
    ["*.apps", "statefulsets.apps", true],
    ["*.apps", "pods", false],
    ["pod?", "pods", true],
    ["*", "anything.example.com", true],
    ["deployments.apps", "deploymentsXapps", false],
  ])("%s ~ %s: %s", (glob, value, expected) => {
    expect(matchesGlob(glob, value)).toBe(expected);
  });
});
