import type { Command } from "../command.ts";
import { activationCommands } from "./activation.ts";
import { cancel } from "./cancel.ts";
import { clusterCommands } from "./cluster.ts";
import { approve, cutover } from "./cutover.ts";
import { drill } from "./drill.ts";
import { gc } from "./gc.ts";
import { migrate } from "./migrate.ts";
import { pairCommands } from "./pair.ts";
import { scheduleCommands } from "./schedule.ts";
import { status } from "./status.ts";
import { verify } from "./verify.ts";

export const commands: readonly Command[] = [
  ...clusterCommands,
  ...pairCommands,
  migrate,
  drill,
  status,
  cancel,
  ...activationCommands,
  cutover,
  approve,
  ...scheduleCommands,
  verify,
  gc,
];
