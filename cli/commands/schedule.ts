import {
  CreateScheduleCommand,
  DeleteScheduleCommand,
  ListSchedulesCommand,
  SchedulerClient,
} from "@aws-sdk/client-scheduler";
import { migrationRequestSchema, parseRequest } from "../../functions/lib/workflow/request.ts";
import type { TriggeredRun } from "../../functions/lib/workflow/triggered-run.ts";
import {
  type Command,
  positional,
  requiredOption,
  selection,
  selectionOptions,
  stringOption,
  UsageError,
} from "../command.ts";
import { table } from "../output.ts";
import { drillOf, drillOptions } from "./drill.ts";

/** Schedules the CLI manages are named with this prefix, as those the stack declares. */
const prefix = "kubeferry-";

const create: Command = {
  path: ["schedule", "create"],
  summary:
    "replicate namespaces on a schedule (EventBridge Scheduler starts a standby migration, one per scheduled time), or with --drill run DR drills on it",
  usage:
    "NAME --pair PAIR -n NAMESPACE [-n …] --expression 'rate(15 minutes)'|'cron(…)' [--timezone TZ] " +
    "--start-function ARN --role-arn ARN [--dead-letter-arn ARN] [-l SELECTOR] " +
    "[--drill [--health-check SELECTOR:CONTAINER:COMMAND]... [--ready-timeout SECONDS]]",
  options: {
    ...selectionOptions,
    drill: { type: "boolean" },
    ...drillOptions,
    expression: { type: "string" },
    timezone: { type: "string" },
    "start-function": { type: "string" },
    "role-arn": { type: "string" },
    "dead-letter-arn": { type: "string" },
  },
  examples: [
    "kubeferry schedule create shop-dr --pair onprem-to-west -n shop --expression 'rate(15 minutes)' \\\n" +
      "    --start-function $START_RUN_ARN --role-arn $SCHEDULER_ROLE_ARN --dead-letter-arn $DLQ_ARN",
    "kubeferry schedule create ledger-drill --drill --pair onprem-to-west -n ledger --expression 'cron(0 4 ? * MON *)' \\\n" +
      "    --health-check 'app=ledger:db:pg_isready -h 127.0.0.1' --start-function $START_RUN_ARN --role-arn $SCHEDULER_ROLE_ARN",
  ],
  async run(invocation, context) {
    const name = positional(invocation, 0, "schedule NAME");
    const expression = requiredOption(invocation, "expression");
    if (!/^(rate|cron|at)\(.+\)$/.test(expression)) {
      throw new UsageError(`--expression must be rate(...), cron(...) or at(...) (got "${expression}")`);
    }
    const drilling = invocation.values.drill === true;
    if (
      !drilling &&
      (invocation.values["health-check"] !== undefined || invocation.values["ready-timeout"] !== undefined)
    ) {
      throw new UsageError("--health-check and --ready-timeout belong to --drill schedules");
    }
    // Scheduled runs are DR replication (the destination copy stays a standby), or drills of it.
    const request = parseRequest(
      migrationRequestSchema,
      {
        ...selection(invocation),
        startApplications: false,
        ...(drilling ? { drill: drillOf(invocation) } : {}),
      },
      "schedule request",
    );
    const deadLetter = stringOption(invocation, "dead-letter-arn");
    await new SchedulerClient({}).send(
      new CreateScheduleCommand({
        Name: `${prefix}${name}`,
        ScheduleExpression: expression,
        ScheduleExpressionTimezone: stringOption(invocation, "timezone") ?? "UTC",
        FlexibleTimeWindow: { Mode: "OFF" },
        Target: {
          // The stack's StartRun function names each run after its scheduled time, as the stack's
          // own schedules do: a repeated delivery starts no second run.
          Arn: requiredOption(invocation, "start-function"),
          RoleArn: requiredOption(invocation, "role-arn"),
          Input: JSON.stringify({
            trigger: { schedule: name, scheduledTime: "<aws.scheduler.scheduled-time>" },
            request,
          } satisfies TriggeredRun),
          RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
          ...(deadLetter ? { DeadLetterConfig: { Arn: deadLetter } } : {}),
        },
      }),
    );
    context.output.result(
      { name: `${prefix}${name}`, expression, request },
      `schedule ${prefix}${name} created`,
    );
    return 0;
  },
};

const list: Command = {
  path: ["schedule", "list"],
  summary: "list kubeferry schedules",
  usage: "",
  options: {},
  examples: ["kubeferry schedule list -o json"],
  async run(_invocation, context) {
    const listed = await new SchedulerClient({}).send(new ListSchedulesCommand({ NamePrefix: prefix }));
    const schedules = (listed.Schedules ?? []).map((s) => ({
      name: s.Name,
      state: s.State,
      target: s.Target?.Arn,
    }));
    context.output.result(
      schedules,
      schedules.length === 0
        ? "no kubeferry schedules"
        : table(
            ["NAME", "STATE", "TARGET"],
            schedules.map((s) => [s.name ?? "", s.state ?? "", s.target ?? ""]),
          ),
    );
    return 0;
  },
};

const remove: Command = {
  path: ["schedule", "delete"],
  summary: "delete a kubeferry schedule",
  usage: "NAME",
  options: {},
  examples: ["kubeferry schedule delete shop-dr"],
  async run(invocation, context) {
    const name = positional(invocation, 0, "schedule NAME");
    const full = name.startsWith(prefix) ? name : `${prefix}${name}`;
    await new SchedulerClient({}).send(new DeleteScheduleCommand({ Name: full }));
    context.output.result({ name: full, deleted: true }, `schedule ${full} deleted`);
    return 0;
  },
};

export const scheduleCommands = [create, list, remove];
