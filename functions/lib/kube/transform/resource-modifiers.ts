import { z } from "zod";
import { ValidationError } from "../../errors.ts";
import { globToRegExp } from "../glob.ts";
import { isLabelSelector, type LabelSelector, matchesLabels, parseLabelSelector } from "../label-selector.ts";
import { describeObject, type KubeObject } from "../objects.ts";
import { applyJsonPatch, type JsonPatchOperation, PatchTestFailed, parseJsonPointer } from "./json-patch.ts";
import { applyMergePatch } from "./merge-patch.ts";

/**
 * User rules that patch matching objects before they are applied, as Velero's resource
 * modifiers. Conditions and patches see the object as exported from the source (source
 * namespace, source storage class); the built-in transforms run afterwards.
 *
 *   { conditions: { groupResource: "deployments.apps", namespaces: ["shop"],
 *                   resourceNameRegex: "^web-", labelSelector: "tier=frontend" },
 *     patches: [{ op: "replace", path: "/spec/replicas", value: 3 }] }
 *
 * A JSON Patch `test` operation that does not hold means the rule does not apply to the object.
 */
const jsonPointer = z.string().refine(isJsonPointer, 'must be a JSON pointer: "" or "/field/0/sub~1field"');

const jsonPatchOperationSchema = z.discriminatedUnion("op", [
  z.strictObject({ op: z.enum(["add", "replace", "test"]), path: jsonPointer, value: z.unknown() }),
  z.strictObject({ op: z.literal("remove"), path: jsonPointer }),
  z.strictObject({ op: z.enum(["move", "copy"]), from: jsonPointer, path: jsonPointer }),
]);

export const resourceModifierSchema = z
  .strictObject({
    conditions: z.strictObject({
      /** Glob over "resource.group" ("pods" for the core group), e.g. "*.apps". */
      groupResource: z.string().min(1),
      /** Matched anywhere in the name unless anchored with ^ and $. */
      resourceNameRegex: z.string().refine(isRegExp, "must be a valid regular expression").optional(),
      namespaces: z.array(z.string().min(1)).min(1).optional(),
      labelSelector: z
        .string()
        .refine(isLabelSelector, "must be a label selector such as app=db,tier!=web")
        .optional(),
    }),
    patches: z.array(jsonPatchOperationSchema).min(1).optional(),
    mergePatch: z.record(z.string(), z.unknown()).optional(),
  })
  .refine((rule) => (rule.patches === undefined) !== (rule.mergePatch === undefined), {
    message: "give exactly one of patches (JSON Patch) or mergePatch (JSON merge patch)",
  });

export const resourceModifiersSchema = z.array(resourceModifierSchema);

/** A validated rule, ready to match objects. */
export interface CompiledModifier {
  groupResource: RegExp;
  name?: RegExp;
  namespaces?: ReadonlySet<string>;
  selector?: LabelSelector;
  patches?: JsonPatchOperation[];
  mergePatch?: Record<string, unknown>;
}

/**
 * Validates rules (at request validation, before anything moves) and compiles them. The error
 * names the offending field, e.g. `resourceModifiers[1].conditions.resourceNameRegex`.
 */
export function parseResourceModifiers(input: unknown, field = "resourceModifiers"): CompiledModifier[] {
  const parsed = resourceModifiersSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? fieldPath(field, issue.path) : field;
    throw new ValidationError(`${where}: ${issue?.message ?? "invalid"}`);
  }
  return parsed.data.map((rule, index) => {
    const { conditions } = rule;
    const compiled: CompiledModifier = { groupResource: globToRegExp(conditions.groupResource) };
    if (conditions.resourceNameRegex !== undefined) compiled.name = new RegExp(conditions.resourceNameRegex);
    if (conditions.namespaces !== undefined) compiled.namespaces = new Set(conditions.namespaces);
    if (conditions.labelSelector !== undefined) {
      compiled.selector = parseLabelSelector(
        conditions.labelSelector,
        `${field}[${index}].conditions.labelSelector`,
      );
    }
    if (rule.patches !== undefined) compiled.patches = rule.patches as JsonPatchOperation[];
    if (rule.mergePatch !== undefined) compiled.mergePatch = rule.mergePatch;
    return compiled;
  });
}

function modifierMatches(modifier: CompiledModifier, object: KubeObject, groupResource: string): boolean {
  const { namespace, name, labels } = object.metadata;
  return (
    modifier.groupResource.test(groupResource) &&
    (modifier.name === undefined || modifier.name.test(name)) &&
    (modifier.namespaces === undefined || (namespace !== undefined && modifier.namespaces.has(namespace))) &&
    (modifier.selector === undefined || matchesLabels(modifier.selector, labels))
  );
}

/** Applies every matching rule in order; a patch that cannot apply names the rule and object. */
export function applyResourceModifiers(
  modifiers: readonly CompiledModifier[],
  object: KubeObject,
  groupResource: string,
): KubeObject {
  return modifiers.reduce((current, modifier, index) => {
    if (!modifierMatches(modifier, object, groupResource)) return current;
    try {
      if (modifier.patches) return applyJsonPatch(current, modifier.patches);
      return applyMergePatch(current, modifier.mergePatch) as KubeObject;
    } catch (error) {
      if (error instanceof PatchTestFailed) return current;
      throw new Error(
        `resource modifier ${index} cannot patch ${describeObject(object)}: ${(error as Error).message}`,
      );
    }
  }, object);
}

function fieldPath(root: string, path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>(
    (text, key) => (typeof key === "number" ? `${text}[${key}]` : `${text}.${String(key)}`),
    root,
  );
}

function isJsonPointer(pointer: string): boolean {
  try {
    parseJsonPointer(pointer);
    return true;
  } catch {
    return false;
  }
}

function isRegExp(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}
