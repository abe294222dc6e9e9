import type { Command } from "./command.ts";
import { table } from "./output.ts";

const globalOptions = [
  "  -o, --output json     print one JSON document instead of text",
  "  --store s3://B/P      use the S3 repository (default: the local one in ~/.kubeferry)",
  "  --kms-key KEY         KMS key wrapping repository keys (with an S3 --store)",
  "  -h, --help            this help",
].join("\n");

export function overviewHelp(commands: readonly Command[], group: readonly string[]): string {
  const shown = commands.filter((command) => group.every((word, index) => command.path[index] === word));
  return [
    "kubeferry — migrate stateful Kubernetes applications between clusters",
    "",
    "Usage: kubeferry <command> [options]",
    "",
    "Commands:",
    table(
      ["  command", "what it does"],
      shown.map((command) => [`  ${command.path.join(" ")}`, command.summary]),
    )
      .split("\n")
      .slice(1)
      .join("\n"),
    "",
    "Options for every command:",
    globalOptions,
    "",
    "Run `kubeferry <command> --help` for a command's options and examples.",
  ].join("\n");
}

export function commandHelp(command: Command): string {
  return [
    `kubeferry ${command.path.join(" ")} — ${command.summary}`,
    "",
    `Usage: kubeferry ${command.path.join(" ")} ${command.usage}`,
    "",
    "Options for every command:",
    globalOptions,
    "",
    "Examples:",
    ...command.examples.map((example) => `  ${example}`),
  ].join("\n");
}
