import { ValidationError } from "../errors.ts";

/**
 * Kubernetes label selectors in their string form ("app=db,tier in (web,api),!canary"), the
 * form users type in requests and resource modifiers. The same string is sent to the API server
 * when listing; this parser validates it up front and evaluates it locally for modifiers.
 */
export type Requirement =
  | { key: string; operator: "exists" | "notExists" }
  | { key: string; operator: "in" | "notIn"; values: string[] };

export type LabelSelector = Requirement[];

const KEY = "[A-Za-z0-9](?:[-A-Za-z0-9_./]*[A-Za-z0-9])?";
const VALUE = "(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)?";
const EXISTS = new RegExp(`^(${KEY})$`);
const NOT_EXISTS = new RegExp(`^!\\s*(${KEY})$`);
const EQUALITY = new RegExp(`^(${KEY})\\s*(==|=|!=)\\s*(${VALUE})$`);
const SET = new RegExp(`^(${KEY})\\s+(in|notin)\\s*\\(([^()]*)\\)$`);
const SET_VALUE = new RegExp(`^${VALUE}$`);

/** Parses a selector; `field` names where it came from so the error points at it. */
export function parseLabelSelector(text: string, field: string): LabelSelector {
  if (text.trim() === "") return [];
  return splitTopLevel(text).map((part) => parseRequirement(part.trim(), field));
}

/** Whether the text parses as a selector: for schemas that report the problem with their own field path. */
export function isLabelSelector(text: string): boolean {
  try {
    parseLabelSelector(text, "selector");
    return true;
  } catch {
    return false;
  }
}

export function matchesLabels(selector: LabelSelector, labels: Record<string, string> = {}): boolean {
  return selector.every((requirement) => {
    const value = labels[requirement.key];
    switch (requirement.operator) {
      case "exists":
        return value !== undefined;
      case "notExists":
        return value === undefined;
      case "in":
        return value !== undefined && requirement.values.includes(value);
      case "notIn":
        return value === undefined || !requirement.values.includes(value);
      default:
        return false;
    }
  });
}

/** Commas separate requirements, except inside the parentheses of `in (a,b)`. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === "(") depth++;
    else if (char === ")") depth--;
    else if (char === "," && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

function parseRequirement(part: string, field: string): Requirement {
  let match = NOT_EXISTS.exec(part);
  if (match?.[1]) return { key: match[1], operator: "notExists" };
  match = EXISTS.exec(part);
  if (match?.[1]) return { key: match[1], operator: "exists" };
  match = EQUALITY.exec(part);
  if (match?.[1] && match[2]) {
    return { key: match[1], operator: match[2] === "!=" ? "notIn" : "in", values: [match[3] ?? ""] };
  }
  match = SET.exec(part);
  if (match?.[1] && match[2]) {
    const values = (match[3] ?? "").split(",").map((value) => value.trim());
    const bad = values.find((value) => !SET_VALUE.test(value));
    if (bad === undefined) return { key: match[1], operator: match[2] === "in" ? "in" : "notIn", values };
  }
  throw new ValidationError(
    `${field}: "${part}" is not a label selector requirement; use key, !key, key=value, key!=value, key in (a,b) or key notin (a,b)`,
  );
}
