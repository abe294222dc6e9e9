import type { V1Pod } from "@kubernetes/client-node";
import { ExecFailed } from "../errors.ts";
import type { ClusterClient } from "../kube/client/cluster-client.ts";
import { mountCheckScript } from "./files/file-tree-scripts.ts";
import { deviceSizeCheckScript } from "./helper-scripts.ts";
import { type Clock, createOrGet, getObject, paths, pollUntil, recentWarnings } from "./kube-calls.ts";
import { runLabels } from "./names.ts";
import type { ExecTarget, PodExec } from "./pod-exec.ts";
import type { VolumeNodeSelector } from "./volume-placement.ts";

/**
 * Stock busybox, pinned by version: it has sh, dd, sha256sum and wc, which is all the helper
 * scripts use. Override per pair (e.g. a mirror in a private registry).
 */
export const DEFAULT_HELPER_IMAGE = "docker.io/library/busybox:1.36.1";
export const HELPER_CONTAINER = "helper";
/** How long a Running helper pod's device may take to answer the size check. */
const DEVICE_SETTLE_MS = 60_000;
/** Where the block device appears in the helper container; scripts read it from the env. */
const DEVICE_PATH = "/dev/kubeferry";
/** Where a Filesystem volume is mounted (the file transport). */
const MOUNT_PATH = "/mnt/kubeferry";

/**
 * A helper pod serves its volume for the whole staging or restore of a run, which may last as
 * long as the migrate workflow's 7-day execution timeout; an hour more, so it never ends first.
 */
export const helperPodLifetimeSeconds = (7 * 24 + 1) * 3600;

export interface HelperPodOptions {
  image?: string;
  nodeSelector?: Record<string, string>;
  /**
   * Required node affinity: where the volume the pod opens is reachable (the source PV's affinity),
   * or where a WaitForFirstConsumer destination volume should be provisioned.
   */
  nodeAffinity?: VolumeNodeSelector;
  tolerations?: { key?: string; operator?: string; value?: string; effect?: string }[];
  /** The pod ends itself after this long even if cleanup never runs (default: helperPodLifetimeSeconds). */
  maxLifetimeSeconds?: number;
  /** How long the pod may take to start and see its device (default 5 minutes). */
  startTimeoutSeconds?: number;
}

export interface HelperPodSpec {
  runId: string;
  namespace: string;
  name: string;
  /**
   * The PVC the pod serves as a raw block device. Absent: no volume, only a small writable
   * scratch /tmp, to probe what the image's tools do (helper-image-probe.ts).
   */
  claimName?: string;
  /**
   * Block (default): the claim as a raw device, for the block transport. Filesystem: the claim
   * mounted at KUBEFERRY_MOUNT, for the file transport, which must read every file whatever its
   * owner and write files with their owners and modes: the pod gets the capabilities for that
   * (CHOWN, DAC_OVERRIDE, DAC_READ_SEARCH, FOWNER, FSETID) and nothing else.
   */
  volumeMode?: "Block" | "Filesystem";
  readOnly: boolean;
  /** For messages: what volume the pod serves. */
  volume: string;
  /** The device must hold at least this many bytes. */
  volumeBytes: number;
}

/**
 * The helper pod: one container that only sleeps, the PVC as a raw block device, its path in
 * KUBEFERRY_DEVICE. No privileges: no capabilities, no privilege escalation, read-only root
 * filesystem, no service account token; it runs as root only so that it may open the device
 * node, which the kubelet creates owned by root. Small requests: the work is dd and sha256sum.
 */
export function helperPodManifest(spec: HelperPodSpec, options: HelperPodOptions = {}): V1Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: spec.name, namespace: spec.namespace, labels: runLabels(spec.runId) },
    spec: {
      restartPolicy: "Never",
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: 1,
      activeDeadlineSeconds: options.maxLifetimeSeconds ?? helperPodLifetimeSeconds,
      ...(options.nodeSelector ? { nodeSelector: options.nodeSelector } : {}),
      ...(options.tolerations ? { tolerations: options.tolerations } : {}),
      ...(options.nodeAffinity
        ? {
            affinity: {
              nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: options.nodeAffinity },
            },
          }
        : {}),
      securityContext: { seccompProfile: { type: "RuntimeDefault" } },
      containers: [
        {
          name: HELPER_CONTAINER,
          image: options.image ?? DEFAULT_HELPER_IMAGE,
          command: ["sleep", String(options.maxLifetimeSeconds ?? helperPodLifetimeSeconds)],
          ...volumeAccess(spec),
          // A CPU limit too: a ResourceQuota on limits.cpu refuses a pod without one. One core is
          // what one sha256sum uses.
          resources: { requests: { cpu: "100m", memory: "32Mi" }, limits: { cpu: "1", memory: "256Mi" } },
          securityContext: {
            runAsUser: 0,
            privileged: false,
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: {
              drop: ["ALL"],
              ...(spec.claimName !== undefined && spec.volumeMode === "Filesystem"
                ? { add: ["CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID"] }
                : {}),
            },
          },
        },
      ],
      volumes: [
        spec.claimName === undefined
          ? { name: "scratch", emptyDir: { sizeLimit: "16Mi" } }
          : { name: "volume", persistentVolumeClaim: { claimName: spec.claimName, readOnly: spec.readOnly } },
      ],
    },
  };
}

function volumeAccess(spec: HelperPodSpec) {
  if (spec.claimName === undefined) return { volumeMounts: [{ name: "scratch", mountPath: "/tmp" }] };
  if (spec.volumeMode === "Filesystem") {
    return {
      env: [{ name: "KUBEFERRY_MOUNT", value: MOUNT_PATH }],
      volumeMounts: [{ name: "volume", mountPath: MOUNT_PATH, readOnly: spec.readOnly }],
    };
  }
  return {
    env: [{ name: "KUBEFERRY_DEVICE", value: DEVICE_PATH }],
    volumeDevices: [{ name: "volume", devicePath: DEVICE_PATH }],
  };
}

/**
 * Creates the helper pod (or finds the one an earlier attempt created), waits until it runs and
 * its device answers with at least volumeBytes bytes, and returns where to exec.
 */
export async function startHelperPod(
  deps: { client: ClusterClient; exec: PodExec; clock: Clock },
  spec: HelperPodSpec,
  options: HelperPodOptions = {},
): Promise<ExecTarget> {
  const { client, exec, clock } = deps;
  const timeoutMs = (options.startTimeoutSeconds ?? 300) * 1000;
  const deadline = clock.now() + timeoutMs;
  await createOrGet(client, paths.pods(spec.namespace), helperPodManifest(spec, options));
  const where = `cluster ${client.name}: helper pod ${spec.namespace}/${spec.name} for ${spec.volume}`;
  let phase: string | undefined;
  await pollUntil(
    clock,
    timeoutMs,
    async () => {
      const pod = await getObject<V1Pod>(client, paths.pod(spec.namespace, spec.name));
      phase = pod?.status?.phase;
      if (phase === "Failed" || phase === "Succeeded") {
        throw new ExecFailed(
          `${where} ended (${phase}: ${pod?.status?.message ?? "no message"}); run cleanup, then rerun`,
        );
      }
      return phase === "Running" ? true : undefined;
    },
    async () =>
      new ExecFailed(
        `${where} is not running after ${timeoutMs / 1000}s (phase ${phase ?? "unknown"}; pod: ` +
          `${await recentWarnings(client, spec.namespace, spec.name)}` +
          (spec.claimName === undefined
            ? ""
            : `; PVC ${spec.claimName}: ${await recentWarnings(client, spec.namespace, spec.claimName)}`) +
          "); check the storage class, quota and image",
      ),
  );
  const target: ExecTarget = {
    cluster: client.name,
    namespace: spec.namespace,
    pod: spec.name,
    container: HELPER_CONTAINER,
    volume: spec.volume,
  };
  if (spec.claimName === undefined) return target;
  const check =
    spec.volumeMode === "Filesystem"
      ? { script: mountCheckScript(), what: "mount check" }
      : { script: deviceSizeCheckScript(spec.volumeBytes), what: "device check" };
  // A pod can report Running a moment before its device is usable: the check is retried for a
  // short while (never past the start deadline), and its last failure is the error.
  const checkDeadline = Math.min(deadline, clock.now() + DEVICE_SETTLE_MS);
  for (;;) {
    try {
      await exec.run(target, { ...check, timeoutMs: 60_000 });
      return target;
    } catch (error) {
      if (clock.now() >= checkDeadline) throw error;
      await clock.sleep(500);
    }
  }
}
