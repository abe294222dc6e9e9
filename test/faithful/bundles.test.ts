import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { synthesizedAssembly } from "../../cli/cloud-assembly-cache.ts";
import {
  type DeployedFunction,
  readCloudAssembly,
  resolveEnvironment,
} from "../../functions/lib/workflow/local-runner/cloud-assembly.ts";
import {
  FunctionError,
  LambdaSandboxes,
} from "../../functions/lib/workflow/local-runner/lambda-sandboxes.ts";
import { type TaskName, taskCatalog, taskNames } from "../../functions/lib/workflow/task-catalog.ts";

let functions: Record<TaskName, DeployedFunction>;
let sandboxes: LambdaSandboxes;

beforeAll(async () => {
  const assembly = await synthesizedAssembly();
  functions = readCloudAssembly(assembly.dir, assembly.stackName).functions;
  // The local default's environment: the functions never reach AWS, and a bad event is refused before any state is read.
  const local = {
    KUBEFERRY_LOCAL_HOME: join(tmpdir(), "kubeferry-never-written"),
    KUBEFERRY_BUCKET: null,
    KUBEFERRY_KMS_KEY_ARN: null,
    KUBEFERRY_REPOSITORY_KEY_ROLE_ARN: null,
    KUBEFERRY_EVENT_BUS: null,
  };
  sandboxes = new LambdaSandboxes(
    Object.fromEntries(
      Object.values(functions).map((fn) => [
        fn.task,
        { ...fn, name: fn.task, environment: resolveEnvironment(fn, local) },
      ]),
    ),
  );
}, 600_000);

afterAll(() => sandboxes?.close());

async function badEventError(task: TaskName): Promise<FunctionError> {
  const error = await sandboxes.invoke(task, "not an event").then(
    () => undefined,
    (failure: unknown) => failure,
  );
  if (!(error instanceof FunctionError)) throw new Error(`${task} accepted a bad event: ${String(error)}`);
  return error;
}

it("the template deploys one function per Task, sized as the task catalog says", () => {
  expect(Object.keys(functions).sort()).toEqual([...taskNames].sort());
  for (const task of taskNames) {
    expect([functions[task].timeoutSeconds, functions[task].memoryMiB], task).toEqual([
      taskCatalog[task].timeoutSeconds,
      taskCatalog[task].memoryMiB,
    ]);
  }
});

it("every deployed bundle loads in its sandbox and refuses a bad event with a function error naming the Task", {
  timeout: 300_000,
}, async () => {
  for (const task of taskNames) {
    const error = await badEventError(task);
    expect(error.errorMessage, task).toContain(`${task}: unexpected input`);
  }
});

it("a deployed bundle reports a bad event as ValidationError, the class name the ASL's Catch rules route on", async () => {
  expect((await badEventError("PlanRanges")).errorType).toBe("ValidationError");
});
