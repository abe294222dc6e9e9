import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClusterClient } from "../../../functions/lib/kube/client/cluster-client.ts";
import { FilesystemBlobStore } from "../../../functions/lib/repository/filesystem-blob-store.ts";
import { LocalKeyProvider } from "../../../functions/lib/repository/local-key-provider.ts";
import { openRepository, type Repository } from "../../../functions/lib/repository/repository.ts";
import type { FileTree } from "../../../functions/lib/repository/tree-manifest.ts";
import type { PodTree } from "../../../functions/lib/volumes/files/pod-tree.ts";
import { restoreTree } from "../../../functions/lib/volumes/files/restore-tree.ts";
import { stageTree } from "../../../functions/lib/volumes/files/stage-tree.ts";
import { TreeContents } from "../../../functions/lib/volumes/files/tree-contents.ts";
import { type ExecTarget, KubeExec } from "../../../functions/lib/volumes/pod-exec.ts";
import { type LocalClusters, startClusters } from "../../env/clusters.ts";
import { mountedVolume } from "../../file-trees/mounted-volume.ts";
import { tempDirectory } from "../../unit/repository/fixtures.ts";
import type { Side } from "./volume-env.ts";

let clusters: LocalClusters;
let source: Side;
let destination: Side;
let repository: Repository;

beforeAll(async () => {
  clusters = await startClusters(["source", "destination"]);
  const side = async (name: string): Promise<Side> => {
    const cluster = clusters.get(name);
    return {
      cluster,
      client: await createClusterClient(cluster.kubeConfig(), { name }),
      exec: new KubeExec(cluster.kubeConfig()),
    };
  };
  [source, destination] = await Promise.all([side("source"), side("destination")]);
  const directory = await tempDirectory();
  repository = await openRepository({
    name: "files",
    store: new FilesystemBlobStore(`${directory}/repository`),
    keyProvider: new LocalKeyProvider(`${directory}/key`),
  });
}, 900_000);

afterAll(async () => {
  source?.client.close();
  destination?.client.close();
  await clusters?.stop();
});

/** What a database volume holds: owners, setuid bits, links, long and odd names, a file of several exec pieces. */
const FILL = `
set -eu
cd "$KUBEFERRY_MOUNT"
mkdir -p pgdata/base/16384 pgdata/pg_wal "with space" ${"d".repeat(60)}/${"e".repeat(60)}
i=0
while [ $i -lt 300 ]; do
  dd if=/dev/urandom of=pgdata/base/16384/$i bs=$((1 + i * 37)) count=1 status=none
  i=$((i + 1))
done
dd if=/dev/urandom of=pgdata/pg_wal/000000010000000000000001 bs=1048576 count=20 status=none
echo config > "with space/post gres.conf"
echo long > ${"d".repeat(60)}/${"e".repeat(60)}/${"f".repeat(40)}
: > pgdata/empty
ln -s pg_wal/000000010000000000000001 pgdata/current
ln pgdata/base/16384/7 pgdata/hard-7
chown -R 999:999 pgdata
chmod 700 pgdata
chmod 4750 pgdata/base/16384/5
touch -d @1600000000 pgdata/base/16384/9
`;

describe("the file transport through helper pods", () => {
  let sourceTree: PodTree;
  let sourcePod: ExecTarget;
  let staged: FileTree;

  beforeAll(async () => {
    ({ tree: sourceTree, pod: sourcePod } = await mountedVolume(
      source,
      "app-data",
      source.cluster.classes.localPath,
    ));
    await source.exec.run(sourcePod, { script: FILL, what: "filling the volume" });
  });

  it("stages a local-path volume: every file, owner, mode, link and long name in the tree", async () => {
    const result = await stageTree(sourceTree, repository.content, undefined, { fullPass: false });
    staged = result.tree;
    const byPath = new Map(staged.entries.map((entry) => [entry.path, entry]));
    expect(staged.files).toBe(300 + 4);
    expect(byPath.get("pgdata")).toMatchObject({ type: "directory", mode: 0o700, uid: 999, gid: 999 });
    expect(byPath.get("pgdata/base/16384/5")?.mode).toBe(0o4750);
    expect(byPath.get("pgdata/base/16384/9")?.mtime).toBe(1_600_000_000);
    expect(byPath.get("pgdata/current")).toMatchObject({
      type: "symlink",
      target: "pg_wal/000000010000000000000001",
    });
    expect(byPath.get("pgdata/hard-7")).toMatchObject({ type: "hardlink", target: "pgdata/base/16384/7" });
    expect(byPath.get("pgdata/pg_wal/000000010000000000000001")?.size).toBe(20 * 1024 * 1024);
    expect(byPath.has(`${"d".repeat(60)}/${"e".repeat(60)}/${"f".repeat(40)}`)).toBe(true);
    expect(byPath.has("with space/post gres.conf")).toBe(true);
    await sourceTree.verify(staged);
  });

  for (const [label, classOf] of [
    ["a directory-backed class (dest-files)", (side: Side) => side.cluster.classes.files],
    ["a block-backed class (dest-fast, Filesystem)", (side: Side) => side.cluster.classes.fast],
  ] as const) {
    it(`restores into ${label}, and the tree digest in the destination pod matches`, async () => {
      const name = label.includes("files") ? "restored-files" : "restored-fast";
      const { tree: target } = await mountedVolume(destination, name, classOf(destination));
      await restoreTree(target, new TreeContents(repository.content), staged, { full: false });
      await target.verify(staged);
    });
  }

  it("a rerun stages only the changed file; the restore writes only it and removes the deleted one", async () => {
    const { tree: target } = await mountedVolume(
      destination,
      "restored-files",
      destination.cluster.classes.files,
    );
    await source.exec.run(sourcePod, {
      script:
        'set -eu; cd "$KUBEFERRY_MOUNT"; echo changed > pgdata/base/16384/3; rm pgdata/base/16384/4; chown 999:999 pgdata/base/16384/3',
      what: "changing the volume",
    });
    const rerun = await stageTree(sourceTree, repository.content, staged, { fullPass: false });
    expect(rerun.stats.filesRead).toBe(1);
    const restored = await restoreTree(target, new TreeContents(repository.content), rerun.tree, {
      full: false,
    });
    expect(restored).toMatchObject({ filesWritten: 1, removed: 1 });
    await target.verify(rerun.tree);
  });

  it("on a live volume, a file deleted between the listing and its read is left out of the tree", async () => {
    const live = {
      description: sourceTree.description,
      list: async () => {
        const listing = await sourceTree.list();
        await source.exec.run(sourcePod, {
          script: 'rm "$KUBEFERRY_MOUNT/pgdata/base/16384/20"',
          what: "deleting",
        });
        return listing;
      },
      contents: sourceTree.contents.bind(sourceTree),
    };
    const { tree, stats } = await stageTree(live, repository.content, undefined, { fullPass: true });
    expect(stats.filesVanished).toBe(1);
    expect(tree.entries.map((entry) => entry.path)).not.toContain("pgdata/base/16384/20");
    expect(tree.entries.map((entry) => entry.path)).toContain("pgdata/base/16384/21");
  });

  it("verification names the first path that differs", async () => {
    const { tree: target, pod } = await mountedVolume(
      destination,
      "restored-fast",
      destination.cluster.classes.fast,
    );
    await destination.exec.run(pod, {
      script: 'cd "$KUBEFERRY_MOUNT"; chmod 644 pgdata/base/16384/5',
      what: "tamper",
    });
    await expect(target.verify(staged)).rejects.toThrow(
      /first at pgdata\/base\/16384\/5: expected file 4750/,
    );
  });
});
