/** EventBridge vocabulary shared by the publishing step and the rules in infra/. */
export const eventSource = "kubeferry";
export const migrationRequestedDetailType = "Migration Requested";
export const resultDetailTypes = {
  Started: "Migration Started",
  Succeeded: "Migration Succeeded",
  Failed: "Migration Failed",
} as const;
/** A drill (request `drill`) publishes these instead of the migration's result events. */
export const drillDetailTypes = {
  Started: "Drill Started",
  Passed: "Drill Passed",
  Failed: "Drill Failed",
} as const;
/** A cutover's own events (the syncs it nests publish theirs as migrations do). */
export const cutoverDetailTypes = {
  Started: "Cutover Started",
  ApprovalNeeded: "Cutover Approval Needed",
  Succeeded: "Cutover Succeeded",
  Rejected: "Cutover Rejected",
  Failed: "Cutover Failed",
} as const;
