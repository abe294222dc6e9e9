import { Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import type * as sfn from "aws-cdk-lib/aws-stepfunctions";
import { Construct } from "constructs";
import { metricNames, metricsNamespace } from "../../functions/lib/workflow/metrics.ts";

/** Alarms on failed and timed-out migrations and failed drills, and a dashboard of runs and bytes moved. */
export class Observability extends Construct {
  readonly failedAlarm: cloudwatch.Alarm;
  readonly timedOutAlarm: cloudwatch.Alarm;
  readonly drillFailedAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: { migration: sfn.StateMachine }) {
    super(scope, id);
    const { migration } = props;
    const period = Duration.minutes(5);

    this.failedAlarm = migration.metricFailed({ period, statistic: "Sum" }).createAlarm(this, "Failed", {
      alarmDescription: "A kubeferry migration failed: read its published result or run record.",
      threshold: 1,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.timedOutAlarm = migration
      .metricTimedOut({ period, statistic: "Sum" })
      .createAlarm(this, "TimedOut", {
        alarmDescription: "A kubeferry migration hit the workflow timeout.",
        threshold: 1,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });

    const runMetric = (name: string) =>
      new cloudwatch.Metric({ namespace: metricsNamespace, metricName: name, statistic: "Sum", period });
    // A failed drill ends its execution Failed too, but only this says the DR copy did not come up.
    this.drillFailedAlarm = runMetric(metricNames.drillsFailed).createAlarm(this, "DrillFailed", {
      alarmDescription:
        "A kubeferry DR drill failed: its copy did not become ready or a health check failed; read the Drill Failed event.",
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    new cloudwatch.Dashboard(this, "Dashboard", {
      dashboardName: "kubeferry",
      widgets: [
        [
          new cloudwatch.GraphWidget({
            title: "Executions",
            left: [
              migration.metricStarted({ period }),
              migration.metricSucceeded({ period }),
              migration.metricFailed({ period }),
              migration.metricTimedOut({ period }),
            ],
          }),
          new cloudwatch.GraphWidget({ title: "Duration", left: [migration.metricTime({ period })] }),
        ],
        [
          new cloudwatch.GraphWidget({ title: "Bytes staged", left: [runMetric(metricNames.bytesStaged)] }),
          new cloudwatch.GraphWidget({
            title: "Chunks uploaded",
            left: [runMetric(metricNames.chunksUploaded)],
          }),
        ],
        [
          new cloudwatch.AlarmStatusWidget({
            title: "Alarms",
            alarms: [this.failedAlarm, this.timedOutAlarm, this.drillFailedAlarm],
          }),
        ],
      ],
    });
  }
}
