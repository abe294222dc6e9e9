import { describe, expect, it } from "vitest";
import type { ClusterClient, KubeRequest } from "../../../functions/lib/kube/client/cluster-client.ts";
import { KubeApiError } from "../../../functions/lib/kube/client/kube-api-error.ts";
import { MASK, maskedTail, OUTPUT_TAIL } from "../../../functions/lib/volumes/hook-output.ts";
import { type ExecHook, runHooks } from "../../../functions/lib/volumes/hooks.ts";
import type { CommandExec } from "../../../functions/lib/volumes/pod-exec.ts";

const PASSWORD = "pg-password-0d93";
const TOKEN = "api-token-77ac1e";
const db0 = {
  metadata: { name: "db-0" },
  spec: {
    containers: [
      {
        name: "postgres",
        env: [
          { name: "PGPASSWORD", valueFrom: { secretKeyRef: { name: "db-credentials", key: "password" } } },
        ],
        envFrom: [{ secretRef: { name: "api" } }],
      },
    ],
  },
  status: { phase: "Running" },
};
const secrets: Record<string, Record<string, string>> = {
  "db-credentials": { password: PASSWORD, unused: "not-in-the-env" },
  api: { TOKEN },
};

/** A source cluster with the db pod and its Secrets; `forbidden` Secrets answer 403. */
function cluster(forbidden: string[] = []): ClusterClient {
  return {
    name: "source",
    async request({ path }: KubeRequest) {
      const secret = /\/secrets\/([^/]+)$/.exec(path)?.[1];
      if (secret === undefined) return { status: 200, body: { items: [db0] } };
      if (forbidden.includes(secret)) {
        throw new KubeApiError(`cluster source: GET ${path}: 403 Forbidden`, {
          cluster: "source",
          status: 403,
        });
      }
      const data = Object.fromEntries(
        Object.entries(secrets[secret] ?? {}).map(([key, value]) => [
          key,
          Buffer.from(value).toString("base64"),
        ]),
      );
      return { status: 200, body: { data } };
    },
  } as unknown as ClusterClient;
}

const printing = (stdout: string, exitCode: number): CommandExec => ({
  async runCommand() {
    return { stdout, stderr: "", exitCode };
  },
});
const thaw: ExecHook = {
  podSelector: "app=db",
  container: "postgres",
  command: ["thaw"],
  onError: "continue",
};

describe("a hook's output, as runHooks reports it", () => {
  it("is reported with the values the container has from Secrets masked", async () => {
    const exec = printing(`connecting with ${PASSWORD} and ${TOKEN}: cannot thaw\n`, 1);
    const [outcome] = await runHooks(cluster(), exec, "shop", "post", [thaw]);
    expect(outcome?.output).toBe("connecting with *** and ***: cannot thaw\n");
  });

  it("in a failing hook's error is masked too", async () => {
    const exec = printing(`password ${PASSWORD} rejected\n`, 2);
    const run = runHooks(cluster(), exec, "shop", "pre", [{ ...thaw, onError: "fail" }]);
    await expect(run).rejects.toThrow(/exited 2; output: password \*\*\* rejected/);
    await expect(run).rejects.not.toThrow(PASSWORD);
  });

  it("is withheld, saying why, when a Secret of the container cannot be read to mask it", async () => {
    const [outcome] = await runHooks(cluster(["api"]), printing(`token ${TOKEN}\n`, 1), "shop", "post", [
      thaw,
    ]);
    expect(outcome?.output).toMatch(
      /^\(output withheld: Secret shop\/api could not be read: .*403 Forbidden/,
    );
    expect(outcome?.output).not.toContain(TOKEN);
  });
});

describe("maskedTail", () => {
  it("masks every occurrence of each secret value, the longest first so no part of one shows", () => {
    expect(maskedTail("user=app pass=hunter2-long; again hunter2-long", ["hunter2", "hunter2-long"])).toBe(
      `user=app pass=${MASK}; again ${MASK}`,
    );
  });

  it("ignores empty values, which would mask between every character", () => {
    expect(maskedTail("cannot freeze", [""])).toBe("cannot freeze");
  });

  it("keeps the tail, cut after masking: a secret across the cut shows no part of itself", () => {
    const secret = "s".repeat(20);
    const output = `${secret}${"x".repeat(OUTPUT_TAIL - 2)}`;
    const tail = maskedTail(output, [secret]);
    expect(tail).toHaveLength(OUTPUT_TAIL);
    expect(tail).not.toContain("s");
  });
});
