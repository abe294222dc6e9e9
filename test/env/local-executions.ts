import { startWorkflow, type WorkflowName, type WorkflowOptions } from "../../cli/local-workflow.ts";
import type { ExecutionOutcome, LocalExecution } from "../../functions/lib/workflow/local-runner.ts";
import { ExecutionAlreadyExists, type ExecutionStarter } from "../../functions/lib/workflow/triggered-run.ts";

interface Started {
  input: string;
  execution: Promise<LocalExecution>;
  ended: boolean;
}

/**
 * StartExecution of a Standard workflow on the local runner, with Step Functions' answers to a
 * name already used (https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html):
 * the same input while that execution runs returns it again; an ended execution or another input
 * is ExecutionAlreadyExists. What the deployed StartRun function gets from Step Functions, here.
 */
export class LocalStandardExecutions implements ExecutionStarter {
  private readonly started = new Map<string, Started>();

  constructor(
    private readonly workflow: WorkflowName,
    private readonly options: WorkflowOptions,
  ) {}

  async start(name: string, input: string): Promise<{ executionArn: string }> {
    const executionArn = `arn:aws:states:local:000000000000:execution:kubeferry-${this.workflow}:${name}`;
    const existing = this.started.get(name);
    if (existing) {
      if (!existing.ended && existing.input === input) return { executionArn };
      throw new ExecutionAlreadyExists(`Execution Already Exists: '${executionArn}'`);
    }
    // The name is taken before the first await: two deliveries at once start one execution.
    const entry: Started = {
      input,
      execution: startWorkflow(this.workflow, JSON.parse(input), name, this.options),
      ended: false,
    };
    this.started.set(name, entry);
    void (await entry.execution).result.finally(() => {
      entry.ended = true;
    });
    return { executionArn };
  }

  /** The names of every execution started, in order. */
  names(): string[] {
    return [...this.started.keys()];
  }

  /** Waits for every execution started to end. */
  async settled(): Promise<ExecutionOutcome[]> {
    return Promise.all([...this.started.values()].map(async (entry) => (await entry.execution).result));
  }
}
