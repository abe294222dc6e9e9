/**
 * Which chunks a restore writes, given what the device holds:
 * - "fresh": a newly provisioned volume. Every chunk with data is written, holes are not: most
 *   CSI drivers hand out volumes that read as zeros (restoreRange hashes the holes and zeroes
 *   the ones that do not, as on a thick volume).
 * - "restored": a standby volume holding the manifest last restored into it. Only chunks whose
 *   ids differ are written — plus, when restores into it were interrupted, every chunk those
 *   may have half-written — and zeros for data that became a hole.
 * - "unknown": everything is written, zeros included (a full restore over old data).
 */

export interface ChunkLayout {
  volumeBytes: number;
  chunkBytes: number;
  /** Chunk ids in volume order; null for an all-zero chunk (a hole). */
  chunks: readonly (string | null)[];
}

export type DeviceContents =
  | { kind: "fresh" }
  | { kind: "unknown" }
  | { kind: "restored"; restored: ChunkLayout; interrupted: readonly ChunkLayout[] };

export interface ChunkWrite {
  index: number;
  /** "data": download and write the chunk; "zero": write zeros in the pod, nothing streamed. */
  kind: "data" | "zero";
}

export function chunksToWrite(target: ChunkLayout, device: DeviceContents): ChunkWrite[] {
  const kindOf = (id: string | null): ChunkWrite["kind"] => (id === null ? "zero" : "data");
  if (device.kind === "fresh") {
    return target.chunks.flatMap((id, index) => (id === null ? [] : [{ index, kind: "data" as const }]));
  }
  const sameGeometry = (other: ChunkLayout) =>
    other.volumeBytes === target.volumeBytes && other.chunkBytes === target.chunkBytes;
  // A layout that changed geometry shares no chunk positions with what is on the device.
  if (
    device.kind === "unknown" ||
    !sameGeometry(device.restored) ||
    !device.interrupted.every(sameGeometry)
  ) {
    return target.chunks.map((id, index) => ({ index, kind: kindOf(id) }));
  }
  const { restored, interrupted } = device;
  return target.chunks.flatMap((id, index) => {
    const onDevice = restored.chunks[index];
    const changed = onDevice !== id || interrupted.some((layout) => layout.chunks[index] !== onDevice);
    return changed ? [{ index, kind: kindOf(id) }] : [];
  });
}
