import { describe, expect, it } from "vitest";
import { taskCatalog } from "../../functions/lib/workflow/task-catalog.ts";
import { synthesize } from "./synthesize.ts";

type Resource = { Type: string; Properties: Record<string, any> };

const { template } = synthesize();
const resources = template.toJSON().Resources as Record<string, Resource>;
const statementsOf = (roleId: string) =>
  Object.values(resources)
    .filter(
      (r) => r.Type === "AWS::IAM::Policy" && r.Properties.Roles.some((role: any) => role.Ref === roleId),
    )
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
const keyRoleId = Object.keys(resources).find(
  (id) => resources[id]?.Type === "AWS::IAM::Role" && id.startsWith("FunctionsRepositoryKeyRole"),
) as string;
const usesKmsWithContext = (statement: any) =>
  [statement.Action].flat().some((action: string) => action.startsWith("kms:")) &&
  statement.Condition?.StringEquals?.["kms:ViaService"] === undefined;

describe("repository keys: KMS for one pair's repository per session", () => {
  it("lets the key role use the key only with the encryption context its session's tag names", () => {
    expect(keyRoleId).toBeDefined();
    const kms = statementsOf(keyRoleId).filter(usesKmsWithContext);
    expect(kms).toEqual([
      {
        Effect: "Allow",
        Action: ["kms:GenerateDataKey", "kms:Decrypt"],
        Resource: { "Fn::GetAtt": [expect.stringMatching(/^StagingKey/), "Arn"] },
        Condition: {
          StringEquals: {
            "kms:EncryptionContext:kubeferry:repository": "${aws:PrincipalTag/kubeferry-repository}",
          },
        },
      },
    ]);
  });

  it("gives no function's own role the key outside S3: each takes a session tagged with exactly one repository", () => {
    const functionRoles = new Set(
      Object.values(resources)
        .filter((r) => r.Type === "AWS::Lambda::Function")
        .map((r) => r.Properties.Role["Fn::GetAtt"][0] as string),
    );
    expect(functionRoles.size).toBeGreaterThan(1);
    const trust = resources[keyRoleId]?.Properties.AssumeRolePolicyDocument.Statement as any[];
    const trusted = new Set(trust.map((s) => s.Principal.AWS["Fn::GetAtt"][0]));
    for (const role of functionRoles) {
      const statements = statementsOf(role);
      expect(statements.filter(usesKmsWithContext), role).toEqual([]);
      const assume = statements.find((s: any) => [s.Action].flat().includes("sts:AssumeRole"));
      if (!assume) continue; // StartRun: no repository at all.
      expect(assume.Resource).toEqual({ "Fn::GetAtt": [keyRoleId, "Arn"] });
      expect(trusted.has(role), role).toBe(true);
    }
    // Every Task's role (the cluster-access role and the others) may take a session.
    expect(trusted.size).toBe(1 + Object.values(taskCatalog).filter((t) => !t.clusters).length + 1);
    for (const statement of trust) {
      expect(statement.Action).toEqual(["sts:AssumeRole", "sts:TagSession"]);
      expect(statement.Condition).toEqual({
        StringLike: { "aws:RequestTag/kubeferry-repository": "?*" },
        "ForAllValues:StringEquals": { "aws:TagKeys": ["kubeferry-repository"] },
      });
    }
  });

  it("tells the functions which role to take sessions of", () => {
    const functions = Object.values(resources).filter((r) => r.Type === "AWS::Lambda::Function");
    const withRole = functions.filter(
      (fn) => fn.Properties.Environment.Variables.KUBEFERRY_REPOSITORY_KEY_ROLE_ARN !== undefined,
    );
    expect(withRole).toHaveLength(Object.keys(taskCatalog).length + 1);
    for (const fn of withRole) {
      expect(fn.Properties.Environment.Variables.KUBEFERRY_REPOSITORY_KEY_ROLE_ARN).toEqual({
        "Fn::GetAtt": [keyRoleId, "Arn"],
      });
    }
  });
});
