import type { ClusterClient } from "../kube/client/cluster-client.ts";
import { getObject, paths } from "./kube-calls.ts";

/**
 * Set by the CSI migration of in-tree volumes (e.g. EKS's default `gp2` class, provisioner
 * `kubernetes.io/aws-ebs`, whose volumes are served by `ebs.csi.aws.com`).
 */
const MIGRATED_TO_ANNOTATION = "pv.kubernetes.io/migrated-to";

interface BoundVolume {
  metadata?: { annotations?: Record<string, string> };
  spec?: { csi?: { driver?: string } };
}

/**
 * The CSI driver that serves a bound claim's volume, from the volume itself: its CSI block, or the
 * driver an in-tree volume was migrated to. The storage class's provisioner is only the fallback
 * (a claim not yet bound): for a migrated class it names the in-tree plugin, not a CSI driver.
 */
export async function volumeDriver(
  client: ClusterClient,
  claim: { spec?: { volumeName?: string } },
  storageClass: string | undefined,
): Promise<string | undefined> {
  const volumeName = claim.spec?.volumeName;
  const volume = volumeName ? await getObject<BoundVolume>(client, paths.pv(volumeName)) : undefined;
  const fromVolume = volume?.spec?.csi?.driver ?? volume?.metadata?.annotations?.[MIGRATED_TO_ANNOTATION];
  if (fromVolume !== undefined || storageClass === undefined) return fromVolume;
  const classObject = await getObject<{ provisioner?: string }>(client, paths.storageClass(storageClass));
  return classObject?.provisioner;
}
