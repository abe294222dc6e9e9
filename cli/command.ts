import type { ParseArgsOptionsConfig } from "node:util";
import type { CliContext } from "./context.ts";

/** One `kubeferry <group> <verb>` command. */
export interface Command {
  /** e.g. ["pair", "create"] */
  path: readonly string[];
  summary: string;
  /** Positional arguments and options, as shown in --help. */
  usage: string;
  options: ParseArgsOptionsConfig;
  examples: readonly string[];
  run(invocation: Invocation, context: CliContext): Promise<number>;
}

export interface Invocation {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/** Bad usage: a flag, a value or an argument. Exit code 2, one line naming it. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

export function stringOption(invocation: Invocation, name: string): string | undefined {
  const value = invocation.values[name];
  return typeof value === "string" ? value : undefined;
}

export function requiredOption(invocation: Invocation, name: string): string {
  const value = stringOption(invocation, name);
  if (value === undefined || value === "") throw new UsageError(`--${name} is required`);
  return value;
}

/** A count flag (e.g. --keep-runs): a whole number of at least 1, or undefined when not given. */
export function countOption(invocation: Invocation, name: string): number | undefined {
  const value = stringOption(invocation, name);
  if (value === undefined) return undefined;
  const count = Number(value);
  if (!Number.isInteger(count) || count < 1)
    throw new UsageError(`--${name} takes a whole number, at least 1 (got "${value}")`);
  return count;
}

export function listOption(invocation: Invocation, name: string): string[] {
  const value = invocation.values[name];
  if (Array.isArray(value)) return value.flatMap((item) => item.split(",")).filter((item) => item !== "");
  return typeof value === "string" ? value.split(",").filter((item) => item !== "") : [];
}

export function choiceOption<T extends string>(
  invocation: Invocation,
  name: string,
  choices: readonly T[],
  fallback: T,
): T {
  const value = stringOption(invocation, name) ?? fallback;
  if (!choices.includes(value as T)) {
    throw new UsageError(`--${name} must be one of ${choices.join(", ")} (got "${value}")`);
  }
  return value as T;
}

export function positional(invocation: Invocation, index: number, what: string): string {
  const value = invocation.positionals[index];
  if (value === undefined) throw new UsageError(`missing ${what}`);
  return value;
}

/** Options every command takes. */
export const commonOptions: ParseArgsOptionsConfig = {
  output: { type: "string", short: "o" },
  help: { type: "boolean", short: "h" },
};

/** What a run works on: a pair, its namespaces and an optional label selector. */
export const selectionOptions: ParseArgsOptionsConfig = {
  pair: { type: "string" },
  namespace: { type: "string", short: "n", multiple: true },
  selector: { type: "string", short: "l" },
};

/** The request fields of those options; a missing pair or namespace is a usage error. */
export function selection(invocation: Invocation): { pair: string; namespaces: string[]; selector?: string } {
  const namespaces = listOption(invocation, "namespace");
  if (namespaces.length === 0) throw new UsageError("-n/--namespace is required (repeat it for several)");
  const selector = stringOption(invocation, "selector");
  return { pair: requiredOption(invocation, "pair"), namespaces, ...(selector ? { selector } : {}) };
}
