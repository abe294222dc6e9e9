import type { ClusterClient } from "../client/cluster-client.ts";
import { isRecord } from "../objects.ts";

export interface WaitOptions {
  timeoutMs: number;
  intervalMs: number;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
}

export const defaultWaitOptions: WaitOptions = {
  timeoutMs: 60_000,
  intervalMs: 250,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  now: Date.now,
};

/**
 * Waits until the CRD's Established condition is True: before that the API server does not
 * serve its custom resources and creating them fails with 404. Returns undefined when
 * established, else the reason to report on the CRD and its custom resources.
 */
export async function waitForCrdEstablished(
  client: ClusterClient,
  name: string,
  options: WaitOptions = defaultWaitOptions,
): Promise<string | undefined> {
  const deadline = options.now() + options.timeoutMs;
  let last = "not yet observed";
  while (options.now() < deadline) {
    const { body } = await client.request<{ status?: { conditions?: unknown[] } }>({
      method: "GET",
      path: `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${encodeURIComponent(name)}`,
    });
    const conditions = body.status?.conditions ?? [];
    const established = conditions.find(
      (condition) => isRecord(condition) && condition.type === "Established",
    );
    if (isRecord(established) && established.status === "True") return undefined;
    const refused = conditions.find(
      (condition) =>
        isRecord(condition) && condition.type === "NamesAccepted" && condition.status === "False",
    );
    if (isRecord(refused)) return `the CRD's names were not accepted: ${String(refused.message)}`;
    last = isRecord(established) ? String(established.message ?? established.reason) : last;
    await options.sleep(options.intervalMs);
  }
  return `CustomResourceDefinition ${name} was not Established within ${options.timeoutMs / 1000}s (${last})`;
}
