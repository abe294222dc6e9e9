import { isFinished, type ManifestStore, type TreeManifest } from "../../repository/manifests.ts";

/**
 * The tree a volume's staging is incremental to: the tree manifest of the latest finished run
 * (Succeeded or PartialSuccess) that moved the volume file by file. A failed run's tree may be
 * dropped by garbage collection at any time, so it is not built upon. None: every file is read.
 */
export async function previousTree(
  manifests: ManifestStore,
  volume: { runId: string; namespace: string; pvc: string },
): Promise<TreeManifest | undefined> {
  const candidates = (await manifests.runRecords()).filter(
    (record) =>
      record.runId !== volume.runId &&
      isFinished(record) &&
      record.volumes.some(
        (v) => v.namespace === volume.namespace && v.name === volume.pvc && v.transport === "file",
      ),
  );
  candidates.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  const latest = candidates[0];
  return latest && manifests.readTreeManifest(latest.runId, volume.namespace, volume.pvc);
}
