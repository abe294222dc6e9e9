import { expect, it } from "vitest";
import {
  type DeployedFunction,
  resolveEnvironment,
} from "../../../../functions/lib/workflow/local-runner/cloud-assembly.ts";

const fn: DeployedFunction = {
  task: "PublishResult",
  bundle: "index.mjs",
  handlerExport: "handler",
  timeoutSeconds: 60,
  memoryMiB: 256,
  environment: {
    KUBEFERRY_PREFIX: "repositories",
    KUBEFERRY_BUCKET: { Ref: "StagingBucket" },
    KUBEFERRY_EVENT_BUS: { Ref: "Bus" },
  },
};

it("keeps literal values, takes local ones for what CloudFormation resolves, and adds the local extras", () => {
  expect(
    resolveEnvironment(fn, { KUBEFERRY_BUCKET: "local", KUBEFERRY_EVENT_BUS: null, AWS_REGION: "us-east-1" }),
  ).toEqual({ KUBEFERRY_PREFIX: "repositories", KUBEFERRY_BUCKET: "local", AWS_REGION: "us-east-1" });
});

it("refuses a variable left to CloudFormation, naming the function and the variable", () => {
  expect(() => resolveEnvironment(fn, { KUBEFERRY_BUCKET: "local" })).toThrow(
    'PublishResult: environment variable KUBEFERRY_EVENT_BUS is {"Ref":"Bus"} in the template; give the local run a value for it',
  );
});
