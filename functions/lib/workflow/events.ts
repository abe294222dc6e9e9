/** EventBridge vocabulary shared by the publishing step and the rules in infra/. */
export const eventSource = "kubeferry";
export const migrationRequestedDetailType = "Migration Requested";
export const resultDetailTypes = {
  Started: "Migration Started",
  Succeeded: "Migration Succeeded",
  Failed: "Migration Failed",
} as const;
export const cutoverDetailTypes = {
  Started: "Cutover Started",
  ApprovalNeeded: "Cutover Approval Needed",
  Succeeded: "Cutover Succeeded",
  Rejected: "Cutover Rejected",
  Failed: "Cutover Failed",
} as const;
