import { readFile } from "node:fs/promises";
import { Writable } from "node:stream";
import { PutSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { parse, stringify } from "yaml";
import { createOutput } from "../../cli/output.ts";
import { ProgressReporter } from "../../cli/progress.ts";
import { runReport } from "../../cli/report.ts";
import { publishedResult } from "../../cli/run-workflow.ts";
import { createKmsClient } from "../../functions/lib/aws/clients.ts";
import type { KubeObject } from "../../functions/lib/kube/objects.ts";
import { KmsKeyProvider } from "../../functions/lib/repository/kms-key-provider.ts";
import { listObjects, paths } from "../../functions/lib/volumes/kube-calls.ts";
import { clusterSecretPrefix } from "../../functions/lib/workflow/environment.ts";
import type { RunResult } from "../../functions/lib/workflow/run-result.ts";
import { waitFor } from "../env/clusters.ts";
import { seed } from "../integration/kube/kube-test-env.ts";
import { failures, PAIR, startWorkflowEnv, type WorkflowEnv, type WorkflowRun } from "./workflow-env.ts";

// Secrets never leave (issue 14, item 8): runs whose kubeconfigs, application secret and
// repository key are known values, and everything a person or a system can see of them —
// every function log line, every state's input and output, the execution's outcome, the
// events on the bus, the run records and what the CLI prints — searched for those values.

vi.setConfig({ testTimeout: 600_000 });

const NAMESPACE = "vault";
const SENTINEL = {
  token: "SENTINEL-token-7f3a91c2d6",
  clientKey: "SENTINEL-client-key-b84e05a7",
  appPassword: "SENTINEL-app-password-52d1c9",
  malformed: "SENTINEL-malformed-e09c44f1",
};
const request = { pair: PAIR, namespaces: [NAMESPACE], excludeResourceTypes: ["*.kwok.x-k8s.io"] };
// The application's own secret, in the hooked container's environment as Kubernetes gives it.
const echoPassword = (then: string) => ["sh", "-c", `echo "password is $DB_PASSWORD"; ${then}`];
const base64 = (text: string) => Buffer.from(text).toString("base64");

let env: WorkflowEnv;
/** Every value that must not be seen, by what it is; filled as the secrets come to exist. */
const secrets = new Map<string, string>();

/** A StatefulSet whose container takes its password from a Secret, with one small Block volume. */
function vaultApp(): KubeObject[] {
  const metadata = { namespace: NAMESPACE };
  const labels = { app: "vault-db" };
  return [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: NAMESPACE } },
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "db-credentials", ...metadata },
      type: "Opaque",
      stringData: { password: SENTINEL.appPassword },
    },
    {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: { name: "db", ...metadata, labels },
      spec: {
        replicas: 1,
        serviceName: "db",
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            containers: [
              {
                name: "postgres",
                image: "registry.local/postgres:16",
                env: [
                  {
                    name: "DB_PASSWORD",
                    valueFrom: { secretKeyRef: { name: "db-credentials", key: "password" } },
                  },
                ],
              },
            ],
          },
        },
        volumeClaimTemplates: [
          {
            metadata: { name: "data" },
            spec: {
              accessModes: ["ReadWriteOnce"],
              volumeMode: "Block",
              storageClassName: "sim-fast",
              resources: { requests: { storage: String(8 * 1024 * 1024) } },
            },
          },
        ],
      },
    },
  ];
}

/** The registered kubeconfig with a second user, as a break-glass entry: a token and a client key. */
function withBreakGlassUser(kubeconfig: string): string {
  const config = parse(kubeconfig);
  config.users.push({
    name: "break-glass",
    user: {
      token: SENTINEL.token,
      "client-certificate-data": base64("not a certificate"),
      "client-key-data": base64(SENTINEL.clientKey),
    },
  });
  return stringify(config);
}

async function putClusterSecret(cluster: string, text: string): Promise<void> {
  const { moto } = env.volumes;
  const client = new SecretsManagerClient({
    endpoint: moto.endpoint,
    region: moto.region,
    credentials: moto.credentials,
  });
  await client.send(
    new PutSecretValueCommand({ SecretId: `${clusterSecretPrefix}${cluster}`, SecretString: text }),
  );
}

beforeAll(async () => {
  env = await startWorkflowEnv();
  for (const name of ["source", "destination"] as const) {
    const cluster = env.volumes.clusters.get(name);
    secrets.set(`${name} cluster's token`, cluster.adminToken);
    await putClusterSecret(name, withBreakGlassUser(await readFile(cluster.kubeconfigPath, "utf8")));
  }
  for (const [name, value] of Object.entries(SENTINEL)) secrets.set(name, value);
  await seed(env.volumes.source.client, vaultApp());
  await waitFor("the vault db pod to run", async () => {
    const pods = await listObjects<any>(env.volumes.source.client, paths.pods(NAMESPACE), "app=vault-db");
    return pods.length === 1 && pods[0].status?.phase === "Running";
  });
  await env.publishedEvents();
}, 600_000);

afterAll(async () => {
  await env?.stop();
});

interface Observation {
  where: string;
  text: string;
}

/** Runs the workflow and gathers everything observable of the run, each with where it was seen. */
async function observedRun(input: unknown, name: string): Promise<{ run: WorkflowRun; seen: Observation[] }> {
  const logLines: string[] = [];
  const log = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  const run = await env.run("migrate", input, name, { log });
  const seen: Observation[] = [{ where: "function logs", text: logLines.join("") }];
  seen.push({ where: "execution outcome", text: JSON.stringify(run.outcome) });
  if (run.error) seen.push({ where: "execution error", text: run.error.message });
  for (const event of run.events) {
    seen.push({ where: `${event.type} ${event.state ?? ""}`, text: JSON.stringify(event) });
  }
  for (const event of await env.publishedEvents()) {
    seen.push({ where: `published ${event["detail-type"]}`, text: JSON.stringify(event) });
  }
  const repository = await env.deps.openRepository(PAIR);
  const record = await repository.manifests.readRunRecord(name).catch(() => undefined);
  if (record) seen.push({ where: "run record", text: JSON.stringify(record) });
  seen.push({ where: "CLI output", text: cliOutput(run) });
  return { run, seen };
}

/** What `kubeferry migrate` prints for these events: its progress lines and its report of the result. */
function cliOutput(run: WorkflowRun): string {
  let text = "";
  const sink = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk);
      done();
    },
  });
  const progress = new ProgressReporter(createOutput(false, sink, sink));
  let published: RunResult | undefined;
  for (const event of run.events) {
    progress.handle(event);
    published = publishedResult(event) ?? published;
  }
  return published ? `${text}${runReport(published)}` : text;
}

/** The repository key exists once a run opened the repository: its bytes, in hex and base64, are secrets too. */
async function addRepositoryKey(): Promise<void> {
  const repository = await env.deps.openRepository(PAIR);
  const key = await new KmsKeyProvider({
    kms: createKmsClient(env.volumes.moto),
    keyId: env.volumes.kmsKeyId,
    repository: PAIR,
    store: repository.store,
  }).repositoryKey();
  secrets.set("repository key (hex)", key.toString("hex"));
  secrets.set("repository key (base64)", key.toString("base64"));
}

/** Where each secret, as itself or base64-encoded (as kubeconfig and Secret data fields hold it), was seen. */
function leaks(seen: Observation[]): string[] {
  const found: string[] = [];
  for (const [what, value] of secrets) {
    for (const form of [value, base64(value)]) {
      for (const observation of seen) {
        if (observation.text.includes(form)) found.push(`${what} in ${observation.where}`);
      }
    }
  }
  return found;
}

describe("secrets never leave", () => {
  it("a migration whose hooks print the application's secret shows no secret anywhere", async () => {
    const hooks = {
      pre: [{ podSelector: "app=vault-db", container: "postgres", command: echoPassword("true") }],
      // A failed thaw that the run tolerates is logged with its output.
      post: [
        {
          podSelector: "app=vault-db",
          container: "postgres",
          command: echoPassword("exit 3"),
          onError: "continue",
        },
      ],
    };
    const { run, seen } = await observedRun({ ...request, hooks }, "secrets-1");
    expect(run.error, failures(run)).toBeUndefined();
    expect(run.output?.result.status).toBe("Successful");
    await addRepositoryKey();
    expect(leaks(seen)).toEqual([]);
    // The tolerated failure is still reported, with its output masked rather than dropped.
    expect(seen[0]?.text).toMatch(/post hook failed and onError is continue.*password is \*\*\*/);
  });

  it("a failing hook that prints the application's secret fails the run saying why, showing no secret", async () => {
    const hooks = {
      pre: [{ podSelector: "app=vault-db", container: "postgres", command: echoPassword("exit 7") }],
    };
    const { run, seen } = await observedRun({ ...request, hooks }, "secrets-2");
    const failed = run.events.find((event) => event.type === "StateFailed" && event.state === "PreHooks");
    expect(leaks(seen)).toEqual([]);
    expect(failed?.error).toBe("ExecFailed");
    expect(failed?.cause).toMatch(/exited 7; output: password is \*\*\*/);
  });

  it("a cluster whose kubeconfig secret is malformed YAML fails pairing naming the secret and position, showing no secret", async () => {
    const token = `    token: ${SENTINEL.malformed}\n`;
    await putClusterSecret(
      "destination",
      `apiVersion: v1\nkind: Config\nusers:\n- name: admin\n  user:\n${token}   client-key-data: [${base64(SENTINEL.malformed)}\n`,
    );
    const { run, seen } = await observedRun(request, "secrets-3");
    expect(run.error).toBeDefined();
    expect(leaks(seen)).toEqual([]);
    const failed = run.events.find(
      (event) => event.type === "StateFailed" && event.error === "ValidationError",
    );
    expect(failed?.cause).toMatch(
      /cluster destination: secret kubeferry\/clusters\/destination is not a valid kubeconfig: .* at line \d+, column \d+/,
    );
  });
});
