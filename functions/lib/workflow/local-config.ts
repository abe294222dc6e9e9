import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { z } from "zod";

/**
 * The CLI's own settings in `~/.kubeferry/config.json` (or `$KUBEFERRY_HOME/config.json`):
 * the clusters registered for local runs. Kubeconfigs stay where they are; only their path
 * and context are recorded, so no credential is copied.
 */
const clusterEntrySchema = z.strictObject({
  kubeconfig: z.string().min(1),
  context: z.string().min(1).optional(),
});

const localConfigSchema = z.strictObject({
  version: z.literal(1),
  clusters: z.record(z.string(), clusterEntrySchema),
});

export type LocalConfig = z.infer<typeof localConfigSchema>;
export type ClusterEntry = z.infer<typeof clusterEntrySchema>;

export function kubeferryHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.KUBEFERRY_HOME ?? join(homedir(), ".kubeferry");
}

export async function readLocalConfig(home: string): Promise<LocalConfig> {
  const path = join(home, "config.json");
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { version: 1, clusters: {} };
    throw error;
  }
  const parsed = localConfigSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`${path} is not a kubeferry config: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

export async function writeLocalConfig(home: string, config: LocalConfig): Promise<void> {
  const path = join(home, "config.json");
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  await rename(temp, path);
}
