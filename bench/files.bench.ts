import { randomBytes } from "node:crypto";
import { mkdir, rm, stat, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type ClusterClient, createClusterClient } from "../functions/lib/kube/client/cluster-client.ts";
import { FilesystemBlobStore } from "../functions/lib/repository/filesystem-blob-store.ts";
import { LocalKeyProvider } from "../functions/lib/repository/local-key-provider.ts";
import { openRepository } from "../functions/lib/repository/repository.ts";
import { treeChunkIds } from "../functions/lib/repository/tree-manifest.ts";
import { restoreTree } from "../functions/lib/volumes/files/restore-tree.ts";
import { stageTree } from "../functions/lib/volumes/files/stage-tree.ts";
import { TreeContents } from "../functions/lib/volumes/files/tree-contents.ts";
import { KubeExec } from "../functions/lib/volumes/pod-exec.ts";
import { startClusters } from "../test/env/clusters.ts";
import { LocalTree } from "../test/file-trees/local-tree.ts";
import { mountedVolume } from "../test/file-trees/mounted-volume.ts";
import { WorkerContentCrypto } from "../test/repository-images/worker-content-crypto.ts";
import { flushDirtyPages, inWorkFolder, MiB, mibPerSecond, progress, round, run, timed } from "./measure.ts";
import { ensureRestic, ResticRepository } from "./restic.ts";

/**
 * The file transport against restic on one generated tree (by default 50,000 files of 1–64 KiB
 * in 100 folders plus 20 files of 32–128 MiB, about 3.1 GiB), both into repositories on local disk:
 * stage and restic backup, restore and restic restore, the objects the tree became, and a rerun
 * after rewriting 1 % of the files; then the exec path: the same tree staged and restored through
 * helper pods on the local clusters. `--json` prints one JSON object on stdout; `--scale F` scales
 * the file counts (not the sizes) for a quick look.
 */

const { values: options } = parseArgs({
  options: { json: { type: "boolean", default: false }, scale: { type: "string", default: "1" } },
});
const scale = Number(options.scale);
const KiB = 1024;
const smallFiles = Math.round(50_000 * scale);
const largeFiles = Math.max(1, Math.round(20 * scale));

async function benchmark(work: string) {
  const resticVersion = await ensureRestic();
  const tree = join(work, "tree");
  progress(`generating ${smallFiles} small and ${largeFiles} large files in ${tree}`);
  const files = await generateTree(tree);
  const bytes = files.reduce((sum, file) => sum + file.size, 0);

  const measure = async <T>(name: string, step: () => Promise<T>) => {
    await flushDirtyPages();
    progress(name);
    return timed(step);
  };
  const repository = await openRepository({
    name: "bench",
    store: new FilesystemBlobStore(join(work, "kubeferry")),
    keyProvider: new LocalKeyProvider(join(work, "kubeferry.key")),
    crypto: (keys) => new WorkerContentCrypto(keys),
  });
  const restic = new ResticRepository(join(work, "restic"), join(work, "restic-cache"));
  await restic.init();

  const source = new LocalTree(tree);
  const stage = await measure("stage", () =>
    stageTree(source, repository.content, undefined, { fullPass: false, packing: { concurrency: 8 } }),
  );
  const backup = await measure("restic backup", () => restic.backup(tree));
  const restoredDir = join(work, "restored");
  await mkdir(restoredDir);
  const restore = await measure("restore", () =>
    restoreTree(new LocalTree(restoredDir), new TreeContents(repository.content), stage.result.tree, {
      full: false,
    }),
  );
  await rm(restoredDir, { recursive: true, force: true });
  const resticRestore = await measure("restic restore", () => restic.restore(restoredDir));
  await rm(restoredDir, { recursive: true, force: true });

  progress("rewriting 1 % of the files");
  const changedBytes = await rewriteOnePercent(tree, files);
  const rerun = await measure("stage after the change", () =>
    stageTree(source, repository.content, stage.result.tree, {
      fullPass: false,
      packing: { concurrency: 8 },
    }),
  );
  const objects = treeChunkIds(stage.result.tree.entries).size;
  const exec = await execPath(work, tree, bytes, measure);
  return {
    files: files.length,
    bytes,
    stage_mib_s: mibPerSecond(bytes, stage.seconds),
    restic_backup_mib_s: mibPerSecond(bytes, backup.seconds),
    restore_mib_s: mibPerSecond(bytes, restore.seconds),
    restic_restore_mib_s: mibPerSecond(bytes, resticRestore.seconds),
    objects_per_gib: round(objects / (bytes / (1024 * MiB))),
    rerun_uploaded_bytes: rerun.result.stats.storedBytes,
    changed_bytes: changedBytes,
    rerun_files_read: rerun.result.stats.filesRead,
    ...exec,
    restic: resticVersion,
  };
}

/**
 * The same tree through helper pods on the local clusters: copied into a local-path volume on the
 * source (its host folder), staged through exec into a fresh repository, restored through exec
 * into a dest-files volume, and verified there.
 */
async function execPath(
  work: string,
  tree: string,
  bytes: number,
  measure: <T>(name: string, step: () => Promise<T>) => Promise<{ result: T; seconds: number }>,
) {
  const clusters = await startClusters(["source", "destination"], { log: progress });
  const clients: ClusterClient[] = [];
  try {
    const side = async (name: string) => {
      const kubeConfig = clusters.get(name).kubeConfig();
      const client = await createClusterClient(kubeConfig, { name });
      clients.push(client);
      return { client, exec: new KubeExec(kubeConfig) };
    };
    const [source, destination] = await Promise.all([side("source"), side("destination")]);
    const from = await mountedVolume(source, "bench-source", clusters.get("source").classes.localPath, "8Gi");
    await run("cp", ["-a", `${tree}/.`, from.hostPath as string]);
    const repository = await openRepository({
      name: "bench-exec",
      store: new FilesystemBlobStore(join(work, "kubeferry-exec")),
      keyProvider: new LocalKeyProvider(join(work, "kubeferry-exec.key")),
      crypto: (keys) => new WorkerContentCrypto(keys),
    });
    const stage = await measure("stage through exec", () =>
      stageTree(from.tree, repository.content, undefined, { fullPass: false, packing: { concurrency: 8 } }),
    );
    const into = await mountedVolume(
      destination,
      "bench-restored",
      clusters.get("destination").classes.files,
      "8Gi",
    );
    const restore = await measure("restore through exec", () =>
      restoreTree(into.tree, new TreeContents(repository.content), stage.result.tree, { full: false }),
    );
    await into.tree.verify(stage.result.tree);
    return {
      exec_stage_mib_s: mibPerSecond(bytes, stage.seconds),
      exec_restore_mib_s: mibPerSecond(bytes, restore.seconds),
    };
  } finally {
    for (const client of clients) client.close();
    await clusters.stop();
  }
}

interface GeneratedFile {
  path: string;
  size: number;
}

/** Incompressible contents, so neither tool gains from compression the other lacks. */
async function generateTree(root: string): Promise<GeneratedFile[]> {
  const files: GeneratedFile[] = [];
  for (let i = 0; i < smallFiles; i++) {
    const folder = `d${String(i % 100).padStart(3, "0")}`;
    if (i < 100) await mkdir(join(root, folder), { recursive: true });
    const size = KiB + Math.floor(Math.random() * 63 * KiB);
    files.push({ path: `${folder}/f${i}`, size });
    await writeFile(join(root, folder, `f${i}`), randomBytes(size));
  }
  await mkdir(join(root, "large"), { recursive: true });
  for (let i = 0; i < largeFiles; i++) {
    const size = Math.round((32 + Math.random() * 96) * MiB);
    files.push({ path: `large/l${i}`, size });
    await writeFile(join(root, "large", `l${i}`), randomBytes(size));
  }
  return files;
}

/** Rewrites every 100th file with new contents of its size, a second later than it was. */
async function rewriteOnePercent(root: string, files: GeneratedFile[]): Promise<number> {
  let changed = 0;
  for (let i = 0; i < files.length; i += 100) {
    const file = files[i] as GeneratedFile;
    const path = join(root, file.path);
    const { mtimeMs } = await stat(path);
    await writeFile(path, randomBytes(file.size));
    await utimes(path, mtimeMs / 1000 + 1, mtimeMs / 1000 + 1);
    changed += file.size;
  }
  return changed;
}

const result = await inWorkFolder(benchmark);
if (options.json) console.log(JSON.stringify(result));
else console.log(result);
