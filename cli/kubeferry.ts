import type { Writable } from "node:stream";
import { parseArgs } from "node:util";
import { KubeferryError } from "../functions/lib/errors.ts";
import { kubeferryHome } from "../functions/lib/workflow/local-config.ts";
import { type Command, commonOptions, UsageError } from "./command.ts";
import { commands } from "./commands/index.ts";
import { createCliContext } from "./context.ts";
import { commandHelp, overviewHelp } from "./help.ts";
import { createOutput } from "./output.ts";

const storeOptions = { store: { type: "string" }, "kms-key": { type: "string" } } as const;

export interface CliIo {
  stdout: Writable;
  stderr: Writable & { isTTY?: boolean };
}

/** Runs one kubeferry command line; resolves to the process exit code. */
export async function main(
  argv: string[],
  io: CliIo = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  const json = outputIsJson(argv);
  const output = createOutput(json, io.stdout, io.stderr);
  const command = findCommand(argv);
  try {
    if (command === undefined) {
      const words = leadingWords(argv);
      const group = commands.filter((c) => words.every((word, index) => c.path[index] === word));
      // `kubeferry pair --help` lists the pair commands; an unknown word is a mistake, help or not.
      if (group.length === 0 || (words.length > 0 && !argv.includes("--help") && !argv.includes("-h"))) {
        throw new UsageError(`unknown command "${words.join(" ")}"; run kubeferry --help`);
      }
      output.result({ commands: group.map((c) => c.path.join(" ")) }, overviewHelp(commands, words));
      return 0;
    }
    const parsed = parseArgs({
      args: argv.slice(command.path.length),
      options: { ...commonOptions, ...storeOptions, ...command.options },
      allowPositionals: true,
      strict: true,
    });
    const values = parsed.values as Record<string, string | boolean | string[] | undefined>;
    if (values.help) {
      output.result(
        { command: command.path.join(" "), usage: command.usage, examples: command.examples },
        commandHelp(command),
      );
      return 0;
    }
    const context = createCliContext(kubeferryHome(), output, {
      store: values.store as string | undefined,
      kmsKey: values["kms-key"] as string | undefined,
    });
    return await command.run({ values, positionals: parsed.positionals }, context);
  } catch (error) {
    return reportError(error, command, io.stderr);
  }
}

function findCommand(argv: string[]): Command | undefined {
  return commands
    .filter((command) => command.path.every((word, index) => argv[index] === word))
    .sort((a, b) => b.path.length - a.path.length)[0];
}

/** The command words: everything before the first option (`-o json` carries a value, not a word). */
function leadingWords(argv: string[]): string[] {
  const firstOption = argv.findIndex((arg) => arg.startsWith("-"));
  return firstOption < 0 ? argv : argv.slice(0, firstOption);
}

function outputIsJson(argv: string[]): boolean {
  const index = argv.findIndex((arg) => arg === "--output" || arg === "-o");
  return argv.includes("--output=json") || (index >= 0 && argv[index + 1] === "json");
}

/**
 * Usage mistakes and refused input (unknown pair, bad selector) exit 2 with one line naming
 * what is wrong; anything else exits 1 with its message.
 */
function reportError(error: unknown, command: Command | undefined, stderr: Writable): number {
  const prefix = command ? `kubeferry ${command.path.join(" ")}` : "kubeferry";
  const message = error instanceof Error ? error.message : String(error);
  const usage =
    error instanceof UsageError ||
    (error instanceof Error && (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) ||
    (error instanceof KubeferryError && error.name === "ValidationError");
  stderr.write(`${prefix}: ${message.split("\n")[0]}\n`);
  return usage ? 2 : 1;
}
