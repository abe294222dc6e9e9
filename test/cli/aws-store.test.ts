import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { GetScheduleCommand, SchedulerClient } from "@aws-sdk/client-scheduler";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { CreateStateMachineCommand, SFNClient } from "@aws-sdk/client-sfn";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { type MotoServer, startMoto } from "../env/moto.ts";
import { run } from "./run-cli.ts";

let moto: MotoServer;
let store: string[];
const saved: Record<string, string | undefined> = {};

/** The CLI finds AWS the way the SDK does: from the environment (here: moto). */
function setEnvironment(values: Record<string, string>) {
  for (const [name, value] of Object.entries(values)) {
    saved[name] = process.env[name];
    process.env[name] = value;
  }
}

beforeAll(async () => {
  moto = await startMoto();
  setEnvironment({
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_REGION: moto.region,
    AWS_ACCESS_KEY_ID: moto.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: moto.credentials.secretAccessKey,
    KUBEFERRY_HOME: mkdtempSync(join(tmpdir(), "kubeferry-cli-aws-")),
  });
  await new S3Client({ forcePathStyle: true }).send(new CreateBucketCommand({ Bucket: "staging" }));
  const key = await new KMSClient({}).send(new CreateKeyCommand({}));
  store = ["--store", "s3://staging/repositories", "--kms-key", key.KeyMetadata?.KeyId as string];
});

afterAll(async () => {
  if (process.env.KUBEFERRY_HOME) rmSync(process.env.KUBEFERRY_HOME, { recursive: true, force: true });
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await moto?.stop();
});

describe("with an S3 store, clusters are Secrets Manager secrets", () => {
  it("stores a kubeconfig reduced to its one context, and an EKS cluster by name", async () => {
    const kubeconfigDir = mkdtempSync(join(tmpdir(), "kubeferry-kc-"));
    onTestFinished(() => rmSync(kubeconfigDir, { recursive: true, force: true }));
    const kubeconfig = join(kubeconfigDir, "config");
    writeFileSync(
      kubeconfig,
      JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [
          { name: "a", cluster: { server: "https://a.example:6443" } },
          { name: "b", cluster: { server: "https://b.example:6443" } },
        ],
        users: [
          { name: "a", user: { token: "token-a" } },
          { name: "b", user: { token: "token-b" } },
        ],
        contexts: [
          { name: "a", context: { cluster: "a", user: "a" } },
          { name: "b", context: { cluster: "b", user: "b" } },
        ],
        "current-context": "a",
      }),
    );
    expect(
      (await run(["cluster", "add", "onprem", "--kubeconfig", kubeconfig, "--context", "b", ...store])).code,
    ).toBe(0);
    expect(
      (await run(["cluster", "add", "west", "--eks-cluster", "prod-west", "--region", "us-west-2", ...store]))
        .code,
    ).toBe(0);

    const secrets = new SecretsManagerClient({});
    const onprem = await secrets.send(new GetSecretValueCommand({ SecretId: "kubeferry/clusters/onprem" }));
    expect(onprem.SecretString).toContain("https://b.example:6443");
    expect(onprem.SecretString).not.toContain("token-a");
    const west = await secrets.send(new GetSecretValueCommand({ SecretId: "kubeferry/clusters/west" }));
    expect(JSON.parse(west.SecretString as string)).toEqual({
      type: "eks",
      cluster: "prod-west",
      region: "us-west-2",
    });

    const listed = await run(["cluster", "list", "-o", "json", ...store]);
    expect(JSON.parse(listed.stdout).map((row: { name: string }) => row.name)).toEqual(["onprem", "west"]);
    expect((await run(["cluster", "remove", "west", ...store])).code).toBe(0);
  });

  it.each([
    [
      "an exec plugin",
      { exec: { apiVersion: "client.authentication.k8s.io/v1", command: "aws", args: ["eks"] } },
    ],
    ["an auth-provider", { "auth-provider": { name: "oidc", config: { "id-token": "t" } } }],
  ])("refuses a kubeconfig whose user needs %s, naming the alternatives", async (_what, user) => {
    const kubeconfigDir = mkdtempSync(join(tmpdir(), "kubeferry-kc-"));
    onTestFinished(() => rmSync(kubeconfigDir, { recursive: true, force: true }));
    const kubeconfig = join(kubeconfigDir, "config");
    writeFileSync(
      kubeconfig,
      JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: "c", cluster: { server: "https://c.example:6443" } }],
        users: [{ name: "u", user }],
        contexts: [{ name: "c", context: { cluster: "c", user: "u" } }],
        "current-context": "c",
      }),
    );
    const { code, stderr } = await run(["cluster", "add", "plugin", "--kubeconfig", kubeconfig, ...store]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/cannot run in Lambda; register an EKS cluster with --eks-cluster/);
    expect(stderr).toContain("token or a client certificate");
    const listed = await run(["cluster", "list", "-o", "json", ...store]);
    expect(JSON.parse(listed.stdout).map((row: { name: string }) => row.name)).not.toContain("plugin");
  });

  it("refuses an EKS cluster for local runs, naming what to add", async () => {
    const { code, stderr } = await run([
      "cluster",
      "add",
      "west",
      "--eks-cluster",
      "prod",
      "--region",
      "us-west-2",
    ]);
    expect(code).toBe(2);
    expect(stderr).toContain("--store");
  });
});

/** `kubeferry migrate --remote` of the shop namespace against a state machine on moto. */
function migrateRemotely(stateMachineArn: string) {
  return run([
    "migrate",
    "--pair",
    "onprem-to-west",
    "-n",
    "shop",
    "--remote",
    "--state-machine",
    stateMachineArn,
    "-o",
    "json",
  ]);
}

describe("migrate --remote", () => {
  it("starts the deployed workflow, follows its states and reports what it published", async () => {
    // moto executes state machines once asked to; this one publishes a result as PublishResult would.
    await fetch(`${moto.endpoint}/moto-api/config`, {
      method: "POST",
      body: JSON.stringify({ stepfunctions: { execute_state_machine: true } }),
    });
    const result = {
      status: "Successful",
      runId: "remote-1",
      pair: "onprem-to-west",
      namespaces: ["shop"],
      objects: { Created: 3 },
      volumes: [],
      bytesStaged: 0,
      chunksUploaded: 0,
      durationSeconds: 1,
      error: null,
    };
    const machine = await new SFNClient({}).send(
      new CreateStateMachineCommand({
        name: "kubeferry-migrate",
        roleArn: "arn:aws:iam::123456789012:role/kubeferry",
        definition: JSON.stringify({
          StartAt: "ValidateRequest",
          States: {
            ValidateRequest: { Type: "Pass", Next: "PublishResult" },
            PublishResult: { Type: "Pass", Result: result, ResultPath: "$.result", End: true },
          },
        }),
      }),
    );
    const remote = await migrateRemotely(machine.stateMachineArn as string);
    expect(remote.code, remote.stderr).toBe(0);
    expect(JSON.parse(remote.stdout)).toEqual(result);
    expect(remote.stderr).toContain("▸ PublishResult");
  });

  it("follows a run whose history is longer than one page to its published result", async () => {
    // 600 chained states are 1,200+ history events: more than one GetExecutionHistory page.
    const steps = Array.from({ length: 600 }, (_, i) => `Step${i}`);
    const states: Record<string, unknown> = Object.fromEntries(
      steps.map((name, i) => [name, { Type: "Pass", Next: steps[i + 1] ?? "PublishResult" }]),
    );
    const result = {
      status: "Successful",
      runId: "remote-long",
      pair: "onprem-to-west",
      namespaces: ["shop"],
      objects: {},
      volumes: [],
      bytesStaged: 0,
      chunksUploaded: 0,
      durationSeconds: 1,
      error: null,
    };
    states.PublishResult = { Type: "Pass", Result: result, ResultPath: "$.result", End: true };
    const machine = await new SFNClient({}).send(
      new CreateStateMachineCommand({
        name: "kubeferry-migrate-long",
        roleArn: "arn:aws:iam::123456789012:role/kubeferry",
        definition: JSON.stringify({ StartAt: "Step0", States: states }),
      }),
    );
    const remote = await migrateRemotely(machine.stateMachineArn as string);
    expect(remote.code, remote.stderr).toBe(0);
    expect(JSON.parse(remote.stdout)).toEqual(result);
    expect(remote.stderr).toContain("▸ Step599");
    expect(remote.stderr.match(/▸ Step\d+\n/g)).toHaveLength(600);
  });
});

describe("schedules", () => {
  it("creates, lists and deletes an EventBridge Scheduler schedule starting a standby migration named after its scheduled time", async () => {
    const arn = "arn:aws:lambda:us-east-1:123456789012:function:kubeferry-StartRun";
    const created = await run([
      "schedule",
      "create",
      "shop-dr",
      "--pair",
      "onprem-to-west",
      "-n",
      "shop",
      "--expression",
      "rate(15 minutes)",
      "--start-function",
      arn,
      "--role-arn",
      "arn:aws:iam::123456789012:role/kubeferry-scheduler",
    ]);
    expect(created.code, created.stderr).toBe(0);
    const schedule = await new SchedulerClient({}).send(
      new GetScheduleCommand({ Name: "kubeferry-shop-dr" }),
    );
    expect(schedule.ScheduleExpression).toBe("rate(15 minutes)");
    expect(schedule.Target?.Arn).toBe(arn);
    const input = JSON.parse(schedule.Target?.Input as string);
    expect(input.trigger).toEqual({ schedule: "shop-dr", scheduledTime: "<aws.scheduler.scheduled-time>" });
    expect(input.request).toMatchObject({
      pair: "onprem-to-west",
      namespaces: ["shop"],
      startApplications: false,
    });
    const listed = await run(["schedule", "list", "-o", "json"]);
    expect(JSON.parse(listed.stdout).map((s: { name: string }) => s.name)).toEqual(["kubeferry-shop-dr"]);
    expect((await run(["schedule", "delete", "shop-dr"])).code).toBe(0);
  });

  it("refuses a bad expression before calling AWS", async () => {
    const { code, stderr } = await run([
      "schedule",
      "create",
      "x",
      "--pair",
      "p",
      "-n",
      "a",
      "--expression",
      "every 5m",
    ]);
    expect(code).toBe(2);
    expect(stderr).toContain("--expression must be rate(...), cron(...) or at(...)");
  });
});
