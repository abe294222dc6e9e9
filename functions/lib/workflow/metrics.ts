/** CloudWatch metrics the workflow emits (embedded metric format) and the dashboard shows. */
export const metricsNamespace = "Kubeferry";
export const metricNames = {
  bytesStaged: "BytesStaged",
  chunksUploaded: "ChunksUploaded",
  bytesWritten: "BytesWritten",
  /** 1 per failed drill, 0 per passed one: the drill alarm's metric. */
  drillsFailed: "DrillsFailed",
} as const;
