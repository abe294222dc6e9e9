import type { Command } from "../command.ts";
import { clusterCommands } from "./cluster.ts";

export const commands: readonly Command[] = [...clusterCommands];
