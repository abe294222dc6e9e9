/** CloudWatch metrics the workflow emits (embedded metric format) and the dashboard shows. */
export const metricsNamespace = "Kubeferry";
export const metricNames = {
  bytesStaged: "BytesStaged",
  chunksUploaded: "ChunksUploaded",
  bytesWritten: "BytesWritten",
} as const;
