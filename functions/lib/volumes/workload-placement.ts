import type { V1PodTemplateSpec } from "@kubernetes/client-node";
import type { ClusterClient } from "../kube/client/cluster-client.ts";
import { listObjects, paths } from "./kube-calls.ts";
import { ZONE_LABEL } from "./volume-placement.ts";

/**
 * Where the workload that mounts a PVC asks its pods to run, as far as zones go. Read on the
 * source, from the pod template that is migrated with the volume: on a WaitForFirstConsumer
 * destination the volume is provisioned where kubeferry's helper pod lands, and the application's
 * pods can only run there afterwards, so the helper pod must land where the template allows.
 */
export interface WorkloadPlacement {
  /** e.g. "StatefulSet shop/db", for messages. */
  workload: string;
  /** The zones the template requires (nodeSelector, required node affinity); absent: any zone. */
  zones?: string[];
  /** A StatefulSet replica whose template spreads its pods over zones: the replica's ordinal. */
  spreadOrdinal?: number;
}

export interface Workload {
  kind: "StatefulSet" | "Deployment";
  metadata?: { name?: string; namespace?: string; annotations?: Record<string, string> };
  spec?: {
    replicas?: number;
    template?: V1PodTemplateSpec;
    volumeClaimTemplates?: Array<{ metadata?: { name?: string } }>;
  };
}

/** The StatefulSets and Deployments of each namespace, listed once per step. */
export class NamespaceWorkloads {
  private readonly lists = new Map<string, Promise<Workload[]>>();

  constructor(private readonly client: ClusterClient) {}

  /** The placement asked by the workload mounting `pvc`, or undefined when no workload mounts it. */
  async placementOf(namespace: string, pvc: string): Promise<WorkloadPlacement | undefined> {
    const workload = await this.mounting(namespace, pvc);
    if (workload === undefined) return undefined;
    const template = workload.spec?.template;
    const ordinal = workload.kind === "StatefulSet" ? claimTemplateOrdinal(workload, pvc) : undefined;
    const zones = templateZones(template);
    const spreads = template?.spec?.topologySpreadConstraints?.some((c) => c.topologyKey === ZONE_LABEL);
    return {
      workload: `${workload.kind} ${namespace}/${workload.metadata?.name}`,
      ...(zones ? { zones } : {}),
      ...(spreads && ordinal !== undefined ? { spreadOrdinal: ordinal } : {}),
    };
  }

  /** The StatefulSet (by claim template or volume) or Deployment whose pods mount `pvc`. */
  async mounting(namespace: string, pvc: string): Promise<Workload | undefined> {
    return (await this.list(namespace)).find(
      (workload) =>
        (workload.kind === "StatefulSet" && claimTemplateOrdinal(workload, pvc) !== undefined) ||
        workload.spec?.template?.spec?.volumes?.some(
          (volume) => volume.persistentVolumeClaim?.claimName === pvc,
        ),
    );
  }

  private list(namespace: string): Promise<Workload[]> {
    let listed = this.lists.get(namespace);
    if (listed === undefined) {
      listed = Promise.all(
        (["StatefulSet", "Deployment"] as const).map(async (kind) =>
          (await listObjects<Workload>(this.client, paths.workloads(kind, namespace))).map((workload) => ({
            ...workload,
            kind,
          })),
        ),
      ).then((lists) => lists.flat());
      this.lists.set(namespace, listed);
    }
    return listed;
  }
}

/** A StatefulSet names its claims `<template>-<statefulset>-<ordinal>`. */
function claimTemplateOrdinal(workload: Workload, pvc: string): number | undefined {
  const set = workload.metadata?.name ?? "";
  for (const template of workload.spec?.volumeClaimTemplates ?? []) {
    const prefix = `${template.metadata?.name}-${set}-`;
    const rest = pvc.startsWith(prefix) ? pvc.slice(prefix.length) : "";
    if (/^(0|[1-9]\d*)$/.test(rest)) return Number(rest);
  }
  return undefined;
}

/**
 * The zones a pod template requires: its nodeSelector's zone, intersected with the zones its
 * required node affinity allows (terms are ORed; a term without a zone requirement allows any).
 * Undefined when the template does not constrain the zone.
 */
function templateZones(template: V1PodTemplateSpec | undefined): string[] | undefined {
  const selected = template?.spec?.nodeSelector?.[ZONE_LABEL];
  const terms =
    template?.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution
      ?.nodeSelectorTerms ?? [];
  const termZones = terms.map(
    (term) => term.matchExpressions?.find((r) => r.key === ZONE_LABEL && r.operator === "In")?.values,
  );
  const fromAffinity =
    termZones.length > 0 && termZones.every((zones) => zones !== undefined)
      ? [...new Set(termZones.flat() as string[])]
      : undefined;
  if (selected === undefined) return fromAffinity?.sort();
  return fromAffinity === undefined || fromAffinity.includes(selected) ? [selected] : [];
}
