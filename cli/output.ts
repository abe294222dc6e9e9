import type { Writable } from "node:stream";

/**
 * How a command prints: `--output json` prints exactly one JSON document on stdout (progress
 * and warnings go to stderr), text mode prints tables and lines for people.
 */
export interface Output {
  readonly json: boolean;
  /** Whether stderr is a terminal: live progress redraws a line only then. */
  readonly interactive: boolean;
  /** The command's result: the value as JSON, or the text for people. */
  result(value: unknown, text: string): void;
  /** A progress or information line (stderr in JSON mode so stdout stays one document). */
  line(text: string): void;
  warn(text: string): void;
  /** Overwrites the current status line on a terminal; a no-op elsewhere. */
  status(text: string): void;
}

export function createOutput(
  json: boolean,
  stdout: Writable,
  stderr: Writable & { isTTY?: boolean },
): Output {
  const interactive = stderr.isTTY === true && !json;
  let statusShown = false;
  const clearStatus = () => {
    if (statusShown) stderr.write("\r\x1b[2K");
    statusShown = false;
  };
  return {
    json,
    interactive,
    result(value, text) {
      clearStatus();
      stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text}\n`);
    },
    line(text) {
      clearStatus();
      (json ? stderr : stdout).write(`${text}\n`);
    },
    warn(text) {
      clearStatus();
      stderr.write(`warning: ${text}\n`);
    },
    status(text) {
      if (!interactive) return;
      stderr.write(`\r\x1b[2K${text}`);
      statusShown = true;
    },
  };
}

/** A plain text table: one header row, columns padded to their widest cell. */
export function table(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = [header, ...rows].map((row) => row.map(String));
  const widths = header.map((_, column) => Math.max(...cells.map((row) => row[column]?.length ?? 0)));
  return cells
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}
