/**
 * Claims older than Kubernetes 1.6's `spec.storageClassName` (and manifests still written that way,
 * such as the public cassandra example) name their class in this annotation; the API server and the
 * provisioners still honour it, so kubeferry reads it wherever it reads a claim's class.
 */
export const BETA_STORAGE_CLASS_ANNOTATION = "volume.beta.kubernetes.io/storage-class";

interface ClaimLike {
  metadata?: { annotations?: Record<string, string> | undefined };
  spec?: { storageClassName?: string | null | undefined };
}

/** The storage class a claim (or claim template) names, by either field; undefined when none. */
export function claimStorageClass(claim: ClaimLike | undefined): string | undefined {
  return claim?.spec?.storageClassName ?? claim?.metadata?.annotations?.[BETA_STORAGE_CLASS_ANNOTATION];
}
