import type { ClusterClient } from "../kube/client/cluster-client.ts";
import { KubeApiError } from "../kube/client/kube-api-error.ts";
import { getObject, paths } from "./kube-calls.ts";

/**
 * What is kept of a hook's output. The output is the application's to write and may print its
 * secrets (a freeze script echoing its password, a client printing its connection string); it
 * goes into the run's error, its events, the run record and the logs. An SRE reading a failed run
 * needs the end of that output to see why the hook failed, so it is kept — its tail, bounded —
 * with every value the container takes from a Secret masked, as CI systems mask theirs. When
 * those values cannot be read, the output is withheld rather than shown unmasked. A secret the
 * command reads from a file or derives is beyond what a mask can know: hooks must not print those.
 */
export const OUTPUT_TAIL = 4000;
export const MASK = "***";

export interface HookContainer {
  name: string;
  env?: { valueFrom?: { secretKeyRef?: { name?: string; key: string } } }[];
  envFrom?: { secretRef?: { name?: string } }[];
}

/** The output to report: the tail of `output`, each of `secretValues` masked (longest first, so no part of one shows). */
export function maskedTail(output: string, secretValues: readonly string[]): string {
  const masked = [...secretValues]
    .filter((value) => value !== "")
    .sort((a, b) => b.length - a.length)
    .reduce((text, value) => text.replaceAll(value, MASK), output);
  return masked.slice(-OUTPUT_TAIL);
}

/**
 * The values `container` of a pod in `namespace` has from Secrets, or why they could not be read
 * (the run can read Secrets on the source: it exports them).
 */
export async function containerSecretValues(
  client: ClusterClient,
  namespace: string,
  container: HookContainer,
): Promise<{ values: string[] } | { problem: string }> {
  const keys = new Map<string, Set<string> | "all">();
  for (const { valueFrom } of container.env ?? []) {
    const ref = valueFrom?.secretKeyRef;
    if (!ref?.name) continue;
    const known = keys.get(ref.name) ?? new Set<string>();
    if (known !== "all") keys.set(ref.name, known.add(ref.key));
  }
  for (const { secretRef } of container.envFrom ?? []) if (secretRef?.name) keys.set(secretRef.name, "all");
  const values: string[] = [];
  for (const [name, wanted] of keys) {
    let secret: { data?: Record<string, string> } | undefined;
    try {
      secret = await getObject(client, paths.secret(namespace, name));
    } catch (error) {
      if (!(error instanceof KubeApiError)) throw error;
      return { problem: `Secret ${namespace}/${name} could not be read: ${error.message}` };
    }
    for (const [key, data] of Object.entries(secret?.data ?? {})) {
      if (wanted === "all" || wanted.has(key)) values.push(Buffer.from(data, "base64").toString("utf8"));
    }
  }
  return { values };
}
