import type { ClusterClient } from "../kube/client/cluster-client.ts";
import { defaultChunkSize } from "../repository/image-manifest.ts";
import { type ChunkRange, planChunkRanges, type RangePlanOptions } from "./chunk-ranges.ts";
import type { HelperPodOptions } from "./helper-pod.ts";
import type { Clock } from "./kube-calls.ts";
import type { ExecTarget, PodExec } from "./pod-exec.ts";
import type { SourceVolume } from "./snapshots.ts";
import { openSourceVolume } from "./source-volume.ts";

export interface PlanVolumeInput {
  runId: string;
  source: SourceVolume;
  chunkBytes?: number;
  ranges?: RangePlanOptions;
  helper?: HelperPodOptions;
  /** Where the snapshot is read (default kubeferry-system). */
  dataMoverNamespace?: string;
}

/** Everything a StageRange item needs besides its range; small JSON. */
export interface VolumePlan {
  source: SourceVolume;
  /** The source helper pod. */
  target: ExecTarget;
  chunkBytes: number;
  ranges: ChunkRange[];
}

/**
 * Opens the source volume (temporary Block PVC from the snapshot, helper pod) and plans it as
 * coarse ranges, each one StageRange Map item.
 */
export async function planVolume(
  deps: { client: ClusterClient; exec: PodExec; clock: Clock },
  input: PlanVolumeInput,
): Promise<VolumePlan> {
  const chunkBytes = input.chunkBytes ?? defaultChunkSize;
  const target = await openSourceVolume(deps, {
    runId: input.runId,
    source: input.source,
    ...(input.helper ? { helper: input.helper } : {}),
    ...(input.dataMoverNamespace ? { dataMoverNamespace: input.dataMoverNamespace } : {}),
  });
  return {
    source: input.source,
    target,
    chunkBytes,
    ranges: planChunkRanges(input.source.volumeBytes, chunkBytes, input.ranges),
  };
}
