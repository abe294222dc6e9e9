import { isRecord } from "../objects.ts";

/**
 * RFC 7386 JSON merge patch: objects merge recursively, `null` deletes a member, anything else
 * (arrays included) replaces. The target is not changed.
 */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isRecord(patch)) return structuredClone(patch);
  const result: Record<string, unknown> = isRecord(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}
