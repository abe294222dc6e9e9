/**
 * Which chunks a restore writes. A first restore into a freshly provisioned volume writes every
 * chunk with data and skips holes: CSI drivers hand out volumes that read as zeros (the final
 * whole-volume digest check catches one that does not). A standby rerun writes only the chunks
 * whose ids differ from the manifest last restored into that volume — plus, when an earlier
 * restore into it was interrupted, the chunks that restore may have half-written — and writes
 * zeros for data that became a hole.
 */

export interface ChunkLayout {
  volumeBytes: number;
  chunkBytes: number;
  /** Chunk ids in volume order; null for an all-zero chunk (a hole). */
  chunks: readonly (string | null)[];
}

export interface ChunkWrite {
  index: number;
  /** "data": download and write the chunk; "zero": write zeros in the pod, nothing streamed. */
  kind: "data" | "zero";
}

export function chunksToWrite(
  target: ChunkLayout,
  restored?: ChunkLayout,
  interrupted: readonly ChunkLayout[] = [],
): ChunkWrite[] {
  const writes: ChunkWrite[] = [];
  if (restored === undefined) {
    target.chunks.forEach((id, index) => {
      if (id !== null) writes.push({ index, kind: "data" });
    });
    return writes;
  }
  // A volume whose geometry changed shares no chunk positions with what is on the device.
  const sameGeometry = (other: ChunkLayout) =>
    other.volumeBytes === target.volumeBytes && other.chunkBytes === target.chunkBytes;
  const comparable = sameGeometry(restored) && interrupted.every(sameGeometry);
  target.chunks.forEach((id, index) => {
    const changed =
      !comparable || restored.chunks[index] !== id || interrupted.some((m) => m.chunks[index] !== restored.chunks[index]);
    if (changed) writes.push({ index, kind: id === null ? "zero" : "data" });
  });
  return writes;
}
