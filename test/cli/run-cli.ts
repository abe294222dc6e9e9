import { PassThrough } from "node:stream";
import { main } from "../../cli/kubeferry.ts";

/** Runs a kubeferry command line in this process, capturing what it prints. */
export async function run(args: string[], tty = false) {
  const stdout = new PassThrough();
  const stderr = Object.assign(new PassThrough(), { isTTY: tty });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on("data", (chunk: Buffer) => out.push(chunk));
  stderr.on("data", (chunk: Buffer) => err.push(chunk));
  const code = await main(args, { stdout, stderr });
  return { code, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") };
}
