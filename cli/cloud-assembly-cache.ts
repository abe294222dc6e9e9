import { createHash, randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { mkdir, readdir, rename, rm, stat, utimes } from "node:fs/promises";
import { join, relative } from "node:path";
import { kubeferryCacheDir } from "./cache-dir.ts";

const root = join(import.meta.dirname, "..");
/** Everything that goes into the cloud assembly: the functions' sources, the stack, the ASL, the locked dependencies. */
const sources = [
  "functions",
  "infra",
  "statemachines",
  "package-lock.json",
  "cdk.json",
  "kubeferry.config.json",
];
// The local runner lives beside the steps but no handler imports it: editing it needs no new bundles.
const notBundled = [join("functions", "lib", "workflow", "local-runner")];
// An assembly is about 200 MB (20 bundles with source maps): those unused for this long go.
const unusedLifetimeMs = 3 * 24 * 3600 * 1000;

export interface SynthesizedAssembly {
  dir: string;
  stackName: string;
}

let synthesized: Promise<SynthesizedAssembly> | undefined;

/**
 * The app synthesized as `cdk synth` does for a deployment — the functions bundled by esbuild
 * with the constructs' options — once per content of its sources: a later run, test or CLI
 * session with the same sources reuses it from the kubeferry cache directory.
 */
export function synthesizedAssembly(): Promise<SynthesizedAssembly> {
  synthesized ??= (async () => {
    const stackName = "Kubeferry";
    const assemblies = join(kubeferryCacheDir(), "assemblies");
    const dir = join(assemblies, sourcesDigest());
    if (!existsSync(join(dir, `${stackName}.template.json`))) {
      await mkdir(assemblies, { recursive: true });
      const staging = `${dir}.building-${randomBytes(4).toString("hex")}`;
      try {
        // The CDK is loaded only to synthesize: a warm run never pays for it.
        const { kubeferryApp } = await import("../infra/kubeferry-app.ts");
        const { app, stack } = kubeferryApp({ outdir: staging });
        if (stack.artifactId !== stackName)
          throw new Error(`the app's stack is ${stack.artifactId}, not ${stackName}`);
        app.synth();
        // Another process may have finished the same assembly first; either copy is the same.
        await rename(staging, dir).catch((error: NodeJS.ErrnoException) => {
          if (!existsSync(join(dir, `${stackName}.template.json`))) throw error;
        });
      } finally {
        await rm(staging, { recursive: true, force: true });
      }
      await removeUnused(assemblies, dir);
    }
    const now = new Date();
    await utimes(dir, now, now);
    return { dir, stackName };
  })();
  return synthesized;
}

function sourcesDigest(): string {
  const hash = createHash("sha256");
  const files = sources
    .flatMap((source) => filesUnder(join(root, source)))
    .filter((file) => !notBundled.some((excluded) => relative(root, file).startsWith(excluded)));
  for (const file of files.sort()) {
    hash.update(relative(root, file)).update("\0").update(readFileSync(file)).update("\0");
  }
  return hash.digest("hex").slice(0, 24);
}

function filesUnder(path: string): string[] {
  if (!existsSync(path)) return [];
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path, { withFileTypes: true }).flatMap((entry) => filesUnder(join(path, entry.name)));
}

async function removeUnused(assemblies: string, current: string): Promise<void> {
  for (const entry of await readdir(assemblies)) {
    const path = join(assemblies, entry);
    if (path === current || entry.includes(".building-")) continue;
    if (Date.now() - (await stat(path)).mtimeMs > unusedLifetimeMs)
      await rm(path, { recursive: true, force: true });
  }
}
