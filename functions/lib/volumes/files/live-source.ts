import type { V1Pod } from "@kubernetes/client-node";
import type { ClusterClient } from "../../kube/client/cluster-client.ts";
import { type HelperPodOptions, startHelperPod } from "../helper-pod.ts";
import { type Clock, listObjects, paths } from "../kube-calls.ts";
import { temporaryName } from "../names.ts";
import type { ExecTarget, PodExec } from "../pod-exec.ts";
import type { SourceVolume } from "../snapshots.ts";

/**
 * A volume without snapshot support, opened for the file transport: a read-only helper pod
 * mounting the application's own PVC, between the request's pre and post hooks (the run record
 * says `consistency: live`). A PVC lives in its namespace, so the pod runs there, not in the
 * data-mover namespace; it carries the run label, and cleanup finds it cluster-wide. A
 * ReadWriteOnce volume can be mounted a second time only on the node that has it mounted, so the
 * pod goes to the node of a running pod that uses the PVC; with none, the PV's node affinity
 * (local-path, hostPath) places it.
 */
export async function openLiveVolume(
  deps: { client: ClusterClient; exec: PodExec; clock: Clock },
  input: { runId: string; source: SourceVolume; helper?: HelperPodOptions },
): Promise<ExecTarget> {
  const { client } = deps;
  const { runId, source } = input;
  const node = await nodeMounting(client, source.namespace, source.pvc);
  const nodeAffinity = node
    ? { nodeSelectorTerms: [{ matchFields: [{ key: "metadata.name", operator: "In", values: [node] }] }] }
    : source.nodeAffinity;
  const name = temporaryName("live", runId, source.namespace, source.pvc);
  return startHelperPod(
    deps,
    {
      runId,
      namespace: source.namespace,
      name,
      claimName: source.pvc,
      volumeMode: "Filesystem",
      readOnly: true,
      volume: `PVC ${source.namespace}/${source.pvc} (live)`,
      volumeBytes: 0,
    },
    nodeAffinity ? { ...input.helper, nodeAffinity } : input.helper,
  );
}

async function nodeMounting(
  client: ClusterClient,
  namespace: string,
  pvc: string,
): Promise<string | undefined> {
  const pods = await listObjects<V1Pod>(client, paths.pods(namespace));
  const user = pods.find(
    (pod) =>
      pod.status?.phase === "Running" &&
      pod.spec?.nodeName !== undefined &&
      (pod.spec.volumes ?? []).some((volume) => volume.persistentVolumeClaim?.claimName === pvc),
  );
  return user?.spec?.nodeName;
}
