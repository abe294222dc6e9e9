import {
  type SFNClient,
  ExecutionAlreadyExists as SfnExecutionAlreadyExists,
  StartExecutionCommand,
} from "@aws-sdk/client-sfn";
import { ExecutionAlreadyExists, type ExecutionStarter } from "./triggered-run.ts";

/** StartExecution of one state machine in Step Functions. */
export function sfnExecutionStarter(sfn: SFNClient, stateMachineArn: string): ExecutionStarter {
  return {
    async start(name, input) {
      try {
        const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn, name, input }));
        return { executionArn: executionArn ?? "" };
      } catch (error) {
        if (error instanceof SfnExecutionAlreadyExists)
          throw new ExecutionAlreadyExists(error.message, { cause: error });
        throw error;
      }
    },
  };
}
