import { isDeepStrictEqual } from "node:util";
import { isRecord } from "../objects.ts";

/** RFC 6902 operations. */
export type JsonPatchOperation =
  | { op: "add" | "replace" | "test"; path: string; value: unknown }
  | { op: "remove"; path: string }
  | { op: "move" | "copy"; from: string; path: string };

/** A `test` operation did not hold; resource modifiers use this to mean "rule does not apply". */
export class PatchTestFailed extends Error {}

/** RFC 6901: "/a/b~1c/0" → ["a", "b/c", "0"]. */
export function parseJsonPointer(pointer: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) throw new Error(`JSON pointer "${pointer}" must be empty or start with "/"`);
  return pointer
    .slice(1)
    .split("/")
    .map((token) => token.replaceAll("~1", "/").replaceAll("~0", "~"));
}

/** Applies the operations in order to a copy of `document`; the input is never changed. */
export function applyJsonPatch<T>(document: T, operations: readonly JsonPatchOperation[]): T {
  let root: unknown = structuredClone(document);
  for (const operation of operations) {
    switch (operation.op) {
      case "add":
        root = add(root, parseJsonPointer(operation.path), structuredClone(operation.value));
        break;
      case "remove":
        remove(root, parseJsonPointer(operation.path));
        break;
      case "replace":
        root = replace(root, parseJsonPointer(operation.path), structuredClone(operation.value));
        break;
      case "move": {
        const value = get(root, parseJsonPointer(operation.from));
        root = add(remove(root, parseJsonPointer(operation.from)), parseJsonPointer(operation.path), value);
        break;
      }
      case "copy":
        root = add(
          root,
          parseJsonPointer(operation.path),
          structuredClone(get(root, parseJsonPointer(operation.from))),
        );
        break;
      case "test":
        if (!isDeepStrictEqual(get(root, parseJsonPointer(operation.path)), operation.value)) {
          throw new PatchTestFailed(`test at "${operation.path}" does not hold`);
        }
        break;
    }
  }
  return root as T;
}

function get(root: unknown, tokens: string[]): unknown {
  let node = root;
  for (const [depth, token] of tokens.entries()) {
    if (Array.isArray(node) && /^(0|[1-9]\d*)$/.test(token) && Number(token) < node.length) {
      node = node[Number(token)];
    } else if (isRecord(node) && Object.hasOwn(node, token)) {
      node = node[token];
    } else {
      throw new Error(`path "/${tokens.slice(0, depth + 1).join("/")}" does not exist`);
    }
  }
  return node;
}

/** Adds (or, for an existing member, sets) the value; returns the new root. */
function add(root: unknown, tokens: string[], value: unknown): unknown {
  const last = tokens.at(-1);
  if (last === undefined) return value;
  const parent = get(root, tokens.slice(0, -1));
  if (Array.isArray(parent)) {
    const index = last === "-" ? parent.length : Number(last);
    if (!/^(0|[1-9]\d*|-)$/.test(last) || index > parent.length) {
      throw new Error(`array index "${last}" is out of range at "/${tokens.join("/")}"`);
    }
    parent.splice(index, 0, value);
  } else if (isRecord(parent)) {
    parent[last] = value;
  } else {
    throw new Error(`"/${tokens.slice(0, -1).join("/")}" is not an object or array`);
  }
  return root;
}

/** Sets an existing member to the value; returns the new root. */
function replace(root: unknown, tokens: string[], value: unknown): unknown {
  const last = tokens.at(-1);
  if (last === undefined) return value;
  get(root, tokens);
  const parent = get(root, tokens.slice(0, -1));
  if (Array.isArray(parent)) parent[Number(last)] = value;
  else if (isRecord(parent)) parent[last] = value;
  return root;
}

/** Removes an existing member; returns the root. */
function remove(root: unknown, tokens: string[]): unknown {
  const last = tokens.at(-1);
  if (last === undefined) throw new Error("cannot remove the whole document");
  get(root, tokens);
  const parent = get(root, tokens.slice(0, -1));
  if (Array.isArray(parent)) parent.splice(Number(last), 1);
  else if (isRecord(parent)) delete parent[last];
  return root;
}
