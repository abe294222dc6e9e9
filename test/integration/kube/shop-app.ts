import type { KubeObject } from "../../../functions/lib/kube/objects.ts";

/**
 * A realistic stateful application in namespace "shop" (issue 4's acceptance list): a
 * StatefulSet with claim templates behind a headless Service, a Deployment behind a ClusterIP
 * Service, configuration, RBAC, a CronJob, policies, an autoscaler, an Ingress, a CRD with two
 * custom resources, and NodePort Services (one whose port the destination already uses).
 */
export const SHOP = "shop";

export const widgetCrd: KubeObject = {
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: "widgets.example.com" },
  spec: {
    group: "example.com",
    scope: "Namespaced",
    names: { plural: "widgets", singular: "widget", kind: "Widget", listKind: "WidgetList" },
    versions: [
      {
        name: "v1",
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: "object",
            properties: {
              spec: { type: "object", properties: { size: { type: "integer" }, colour: { type: "string" } } },
            },
          },
        },
      },
    ],
  },
};

const labels = (app: string) => ({ app, "app.kubernetes.io/part-of": "shop" });
const container = (name: string, image: string) => ({
  name,
  image,
  ports: [{ containerPort: 8080 }],
  resources: { requests: { cpu: "100m", memory: "64Mi" } },
});

export function shopObjects(storageClass: string): KubeObject[] {
  const ns = { namespace: SHOP };
  return [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: SHOP, labels: { team: "shop" } } },
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "app", ...ns } },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: "config-reader", ...ns },
      rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list"] }],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: "app-config-reader", ...ns },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "config-reader" },
      subjects: [{ kind: "ServiceAccount", name: "app", namespace: SHOP }],
    },
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "app-config", ...ns },
      data: { "app.properties": "colour=blue\n" },
    },
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "db-credentials", ...ns },
      type: "Opaque",
      stringData: { password: "s3cret" },
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "db", ...ns, labels: labels("db") },
      spec: { clusterIP: "None", selector: { app: "db" }, ports: [{ name: "pg", port: 5432 }] },
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web", ...ns, labels: labels("web") },
      spec: {
        type: "ClusterIP",
        selector: { app: "web" },
        ports: [{ name: "http", port: 80, targetPort: 8080 }],
      },
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web-public", ...ns },
      spec: {
        type: "NodePort",
        selector: { app: "web" },
        ports: [{ name: "http", port: 80, targetPort: 8080, nodePort: 30080 }],
      },
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "admin-public", ...ns },
      spec: {
        type: "NodePort",
        selector: { app: "web" },
        ports: [{ name: "http", port: 81, targetPort: 8080, nodePort: 30081 }],
      },
    },
    {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: { name: "db", ...ns, labels: labels("db") },
      spec: {
        replicas: 2,
        serviceName: "db",
        selector: { matchLabels: { app: "db" } },
        template: {
          metadata: { labels: labels("db") },
          spec: {
            serviceAccountName: "app",
            containers: [container("postgres", "registry.local/postgres:16")],
          },
        },
        volumeClaimTemplates: [
          {
            metadata: { name: "data" },
            spec: {
              accessModes: ["ReadWriteOnce"],
              storageClassName: storageClass,
              resources: { requests: { storage: "1Gi" } },
            },
          },
        ],
      },
    },
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", ...ns, labels: labels("web") },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: "web" } },
        template: {
          metadata: { labels: labels("web") },
          spec: { serviceAccountName: "app", containers: [container("web", "registry.local/web:1.4")] },
        },
      },
    },
    {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "nightly-report", ...ns },
      spec: {
        schedule: "0 3 * * *",
        jobTemplate: {
          spec: {
            template: {
              spec: {
                restartPolicy: "OnFailure",
                containers: [container("report", "registry.local/report:2")],
              },
            },
          },
        },
      },
    },
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "db-from-web", ...ns },
      spec: {
        podSelector: { matchLabels: { app: "db" } },
        ingress: [{ from: [{ podSelector: { matchLabels: { app: "web" } } }], ports: [{ port: 5432 }] }],
        policyTypes: ["Ingress"],
      },
    },
    {
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: { name: "web", ...ns },
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" },
        minReplicas: 2,
        maxReplicas: 5,
        metrics: [
          {
            type: "Resource",
            resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 80 } },
          },
        ],
      },
    },
    {
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name: "db", ...ns },
      spec: { minAvailable: 1, selector: { matchLabels: { app: "db" } } },
    },
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "Ingress",
      metadata: { name: "web", ...ns },
      spec: {
        rules: [
          {
            host: "shop.example.com",
            http: {
              paths: [
                {
                  path: "/",
                  pathType: "Prefix",
                  backend: { service: { name: "web", port: { number: 80 } } },
                },
              ],
            },
          },
        ],
      },
    },
    widgetCrd,
    {
      apiVersion: "example.com/v1",
      kind: "Widget",
      metadata: { name: "blue", ...ns },
      spec: { size: 3, colour: "blue" },
    },
    {
      apiVersion: "example.com/v1",
      kind: "Widget",
      metadata: { name: "red", ...ns },
      spec: { size: 5, colour: "red" },
    },
  ];
}

/**
 * The shop app with its StatefulSet's claims made small raw Block devices: tests write byte
 * patterns into them, which a mounted filesystem would overwrite with its own metadata (the node
 * shim formats and mounts Filesystem claims as kubelet does).
 */
export function shopWithBlockVolumes(storageClass: string, bytes: number): KubeObject[] {
  return shopObjects(storageClass).map((object) => {
    if (object.kind !== "StatefulSet") return object;
    const copy = structuredClone(object) as any;
    copy.spec.volumeClaimTemplates[0].spec.resources.requests.storage = String(bytes);
    copy.spec.volumeClaimTemplates[0].spec.volumeMode = "Block";
    return copy;
  });
}
