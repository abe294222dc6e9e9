/**
 * Resolves an ASL reference path (`$`, `$.a.b`, `$.a[0]`, `$['a b']`) against a JSON value.
 * Reference paths select one node and allow no filters or wildcards, so this small reader is
 * enough for the fields the runner evaluates itself (a Wait state's SecondsPath/TimestampPath).
 */
export function resolveReferencePath(path: string, value: unknown): unknown {
  if (!path.startsWith("$") || path.startsWith("$$")) {
    throw new StatesRuntimeError(`${path}: the local runner resolves only paths into the state input ($...)`);
  }
  const segment = /^(?:\.([A-Za-z_][\w-]*)|\[(\d+)\]|\['([^']*)'\])/;
  let rest = path.slice(1);
  let node = value;
  while (rest !== "") {
    const match = segment.exec(rest);
    if (!match) throw new StatesRuntimeError(`${path}: not a reference path the local runner can resolve`);
    const key = match[1] ?? match[3] ?? Number(match[2]);
    node =
      node !== null && typeof node === "object" ? (node as Record<string | number, unknown>)[key] : undefined;
    if (node === undefined)
      throw new StatesRuntimeError(`${path}: does not point to a value in the state input`);
    rest = rest.slice(match[0].length);
  }
  return node;
}

export class StatesRuntimeError extends Error {
  override readonly name = "States.Runtime";
  // As a States.Runtime error in Step Functions: neither retried nor caught.
  readonly isRetryable = false;
  readonly isCatchable = false;
}
