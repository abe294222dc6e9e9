import type { KubeObject } from "../functions/lib/kube/objects.ts";

/** The demo's stateful application: a StatefulSet with two volumes, a Service, a ConfigMap and a Secret. */
export const DEMO_NAMESPACE = "ledger";
export const DEMO_VOLUMES = [
  { template: "data", bytes: 96 * 1024 * 1024, volumeMode: "Filesystem" },
  { template: "wal", bytes: 32 * 1024 * 1024, volumeMode: "Block" },
] as const;
/** The claims the StatefulSet's single replica gets. */
export const DEMO_CLAIMS = DEMO_VOLUMES.map((volume) => `${volume.template}-ledger-0`);

export function demoApp(storageClass: string, namespace = DEMO_NAMESPACE): KubeObject[] {
  const ns = { namespace };
  const labels = { app: "ledger" };
  return [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } },
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "ledger-config", ...ns, labels },
      data: { "ledger.conf": "fsync = on\ncheckpoint_timeout = 5min\n" },
    },
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "ledger-credentials", ...ns, labels },
      type: "Opaque",
      stringData: { username: "ledger", password: "correct-horse-battery-staple" },
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "ledger", ...ns, labels },
      spec: { clusterIP: "None", selector: labels, ports: [{ name: "sql", port: 5432 }] },
    },
    {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: { name: "ledger", ...ns, labels },
      spec: {
        serviceName: "ledger",
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            containers: [
              {
                name: "db",
                image: "registry.local/ledger-db:1.0",
                envFrom: [
                  { configMapRef: { name: "ledger-config" } },
                  { secretRef: { name: "ledger-credentials" } },
                ],
                volumeMounts: [{ name: "data", mountPath: "/var/lib/ledger" }],
                volumeDevices: [{ name: "wal", devicePath: "/dev/wal" }],
              },
            ],
          },
        },
        volumeClaimTemplates: DEMO_VOLUMES.map((volume) => ({
          metadata: { name: volume.template, labels },
          spec: {
            accessModes: ["ReadWriteOnce"],
            volumeMode: volume.volumeMode,
            storageClassName: storageClass,
            resources: { requests: { storage: String(volume.bytes) } },
          },
        })),
      },
    },
  ];
}
