import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

// Builds commands from the wrapper Go modules in test/env/go/ (each pins one upstream release and
// copies whatever replace directives it needs) into a cache folder.

export interface ModuleBuild {
  /** Folder name under test/env/go/. */
  module: string;
  packages: string[];
  ldflags: string;
}

export const wrapperModulesDir = join(dirname(fileURLToPath(import.meta.url)), "go");

/** The version test/env/go/<module>/go.mod requires of `path`. */
export async function requiredVersion(module: string, path: string): Promise<string> {
  const goMod = await readFile(join(wrapperModulesDir, module, "go.mod"), "utf8");
  const escaped = path.replaceAll(".", "\\.");
  const match = goMod.match(new RegExp(`^\\s*(?:require\\s+)?${escaped} v(\\S+)`, "m"));
  if (!match?.[1]) {
    throw new Error(`test/env/go/${module}/go.mod does not require ${path}; restore the require line`);
  }
  return match[1];
}

export interface BuildRequest {
  /** The final cache folder; it appears only once everything in it is built. */
  dir: string;
  builds: ModuleBuild[];
  /** Prefix of progress lines, e.g. "[k8s-binaries]". */
  tag: string;
  /** What a person can do instead when a build fails. */
  hint: string;
  /** Adds more files to the staging folder after the builds (e.g. manifests from the module cache). */
  complete?: (staging: string) => Promise<void>;
  log: (line: string) => void;
}

export async function buildInto(request: BuildRequest): Promise<void> {
  const { dir } = request;
  await mkdir(dirname(dir), { recursive: true });
  // Build beside the final folder and rename, so an interrupted build never looks complete.
  const staging = await mkdtemp(`${dir}.building-`);
  try {
    for (const build of request.builds) {
      await goBuild(build, staging, request);
    }
    await request.complete?.(staging);
    await rename(staging, dir).catch(async (error: NodeJS.ErrnoException) => {
      // Another process finished the same build first; its result is as good as ours.
      if (error.code !== "ENOTEMPTY" && error.code !== "EEXIST") throw error;
      await rm(staging, { recursive: true, force: true });
    });
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}

async function goBuild(build: ModuleBuild, outDir: string, request: BuildRequest): Promise<void> {
  const { log, tag } = request;
  const started = Date.now();
  const elapsed = () => `${Math.round((Date.now() - started) / 1000)}s`;
  log(`${tag} building ${build.module} (${build.packages.join(", ")}); a cold build takes minutes`);
  const ticker = setInterval(() => log(`${tag} still building ${build.module} (${elapsed()})`), 30_000);
  try {
    const args = ["build", "-trimpath", `-ldflags=${build.ldflags}`, "-o", `${outDir}/`, ...build.packages];
    const output = await goCommand(args, build.module);
    if (output.code !== 0) {
      throw new Error(
        `go build of test/env/go/${build.module} failed (exit ${output.code}); fix the wrapper module ` +
          `or ${request.hint}.\n${output.stderr}`,
      );
    }
  } finally {
    clearInterval(ticker);
  }
  log(`${tag} built ${build.module} in ${elapsed()}`);
}

/** Runs `go …` inside test/env/go/<module>; stdout is returned (e.g. for `go list`). */
export function goCommand(
  args: string[],
  module: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("go", args, {
      cwd: join(wrapperModulesDir, module),
      env: { ...process.env, GOFLAGS: "-mod=mod -buildvcs=false" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.on("error", (error) =>
      reject(new Error(`cannot run go (${error.message}); install Go 1.26 or newer and put it on PATH`)),
    );
    child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}
