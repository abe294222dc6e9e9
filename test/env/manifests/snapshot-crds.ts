import type { V1CustomResourceDefinition, V1JSONSchemaProps } from "@kubernetes/client-node";

// The CSI snapshot API (snapshot.storage.k8s.io/v1) as the external-snapshotter serves it, written
// here with only the fields kubeferry and the storage simulator use, so that the API server
// validates and prunes snapshot objects exactly like a cluster with the snapshot CRDs installed.

const group = "snapshot.storage.k8s.io";

// Keys are client-node's model names (x_kubernetes_…): its serializer drops anything else.
const string: V1JSONSchemaProps = { type: "string" };
const deletionPolicy: V1JSONSchemaProps = { type: "string", _enum: ["Delete", "Retain"] };
const snapshotError: V1JSONSchemaProps = {
  type: "object",
  properties: { message: string, time: { type: "string", format: "date-time" } },
};

function snapshotCrd(options: {
  kind: string;
  plural: string;
  shortNames: string[];
  scope: "Namespaced" | "Cluster";
  schema: V1JSONSchemaProps;
  columns: { name: string; jsonPath: string; type: string }[];
  withStatus: boolean;
}): V1CustomResourceDefinition {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: {
      name: `${options.plural}.${group}`,
      // The API server insists on this annotation for groups under k8s.io.
      annotations: {
        "api-approved.kubernetes.io": "unapproved, kubeferry test copy of the CSI snapshot API",
      },
    },
    spec: {
      group,
      scope: options.scope,
      names: {
        kind: options.kind,
        listKind: `${options.kind}List`,
        plural: options.plural,
        singular: options.kind.toLowerCase(),
        shortNames: options.shortNames,
      },
      versions: [
        {
          name: "v1",
          served: true,
          storage: true,
          schema: { openAPIV3Schema: options.schema },
          subresources: options.withStatus ? { status: {} } : undefined,
          additionalPrinterColumns: options.columns,
        },
      ],
    },
  };
}

const volumeSnapshot = snapshotCrd({
  kind: "VolumeSnapshot",
  plural: "volumesnapshots",
  shortNames: ["vs"],
  scope: "Namespaced",
  withStatus: true,
  columns: [
    { name: "ReadyToUse", type: "boolean", jsonPath: ".status.readyToUse" },
    { name: "SourcePVC", type: "string", jsonPath: ".spec.source.persistentVolumeClaimName" },
    { name: "RestoreSize", type: "string", jsonPath: ".status.restoreSize" },
    { name: "SnapshotClass", type: "string", jsonPath: ".spec.volumeSnapshotClassName" },
    { name: "SnapshotContent", type: "string", jsonPath: ".status.boundVolumeSnapshotContentName" },
  ],
  schema: {
    type: "object",
    required: ["spec"],
    properties: {
      apiVersion: string,
      kind: string,
      metadata: { type: "object" },
      spec: {
        type: "object",
        required: ["source"],
        properties: {
          source: {
            type: "object",
            properties: { persistentVolumeClaimName: string, volumeSnapshotContentName: string },
            x_kubernetes_validations: [
              {
                rule: "has(self.persistentVolumeClaimName) != has(self.volumeSnapshotContentName)",
                message: "exactly one of persistentVolumeClaimName and volumeSnapshotContentName must be set",
              },
              { rule: "self == oldSelf", message: "source is immutable" },
            ],
          },
          volumeSnapshotClassName: string,
        },
      },
      status: {
        type: "object",
        properties: {
          boundVolumeSnapshotContentName: string,
          creationTime: { type: "string", format: "date-time" },
          readyToUse: { type: "boolean" },
          restoreSize: {
            x_kubernetes_int_or_string: true,
            anyOf: [{ type: "integer" }, { type: "string" }],
          },
          error: snapshotError,
        },
      },
    },
  },
});

const volumeSnapshotContent = snapshotCrd({
  kind: "VolumeSnapshotContent",
  plural: "volumesnapshotcontents",
  shortNames: ["vsc", "vscs"],
  scope: "Cluster",
  withStatus: true,
  columns: [
    { name: "ReadyToUse", type: "boolean", jsonPath: ".status.readyToUse" },
    { name: "RestoreSize", type: "integer", jsonPath: ".status.restoreSize" },
    { name: "DeletionPolicy", type: "string", jsonPath: ".spec.deletionPolicy" },
    { name: "Driver", type: "string", jsonPath: ".spec.driver" },
    { name: "VolumeSnapshot", type: "string", jsonPath: ".spec.volumeSnapshotRef.name" },
  ],
  schema: {
    type: "object",
    required: ["spec"],
    properties: {
      apiVersion: string,
      kind: string,
      metadata: { type: "object" },
      spec: {
        type: "object",
        required: ["deletionPolicy", "driver", "source", "volumeSnapshotRef"],
        properties: {
          deletionPolicy,
          driver: string,
          source: {
            type: "object",
            properties: { snapshotHandle: string, volumeHandle: string },
            x_kubernetes_validations: [
              {
                rule: "has(self.snapshotHandle) != has(self.volumeHandle)",
                message: "exactly one of snapshotHandle and volumeHandle must be set",
              },
              { rule: "self == oldSelf", message: "source is immutable" },
            ],
          },
          sourceVolumeMode: { type: "string", _enum: ["Block", "Filesystem"] },
          volumeSnapshotClassName: string,
          volumeSnapshotRef: {
            type: "object",
            properties: {
              apiVersion: string,
              kind: string,
              name: string,
              namespace: string,
              resourceVersion: string,
              uid: string,
              fieldPath: string,
            },
            x_kubernetes_map_type: "atomic",
          },
        },
      },
      status: {
        type: "object",
        properties: {
          // Nanoseconds since the epoch, as the CSI driver reports it.
          creationTime: { type: "integer", format: "int64" },
          readyToUse: { type: "boolean" },
          restoreSize: { type: "integer", format: "int64", minimum: 0 },
          snapshotHandle: string,
          error: snapshotError,
        },
      },
    },
  },
});

const volumeSnapshotClass = snapshotCrd({
  kind: "VolumeSnapshotClass",
  plural: "volumesnapshotclasses",
  shortNames: ["vsclass", "vsclasses"],
  scope: "Cluster",
  withStatus: false,
  columns: [
    { name: "Driver", type: "string", jsonPath: ".driver" },
    { name: "DeletionPolicy", type: "string", jsonPath: ".deletionPolicy" },
  ],
  schema: {
    type: "object",
    required: ["driver", "deletionPolicy"],
    properties: {
      apiVersion: string,
      kind: string,
      metadata: { type: "object" },
      driver: string,
      deletionPolicy,
      parameters: { type: "object", additionalProperties: string },
    },
  },
});

export const snapshotCrds: V1CustomResourceDefinition[] = [
  volumeSnapshotClass,
  volumeSnapshotContent,
  volumeSnapshot,
];
