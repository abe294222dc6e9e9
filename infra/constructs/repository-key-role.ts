import * as iam from "aws-cdk-lib/aws-iam";
import type * as kms from "aws-cdk-lib/aws-kms";
import { Construct } from "constructs";
import { repositoryTagKey } from "../../functions/lib/aws/repository-key-sessions.ts";

/**
 * The only role that may use the KMS key for repository keys, and only in sessions tagged with
 * one repository, for that repository's encryption context.
 *
 * Why session tags: the functions are shared by every pair (one function per Task), so a
 * condition on the functions' own roles could name no pair; per-pair roles would have to exist
 * before a pair does (pairs are created at run time, by the CLI). A session tagged with the run's
 * pair turns the one role into a role per pair: the key role's policy compares the encryption
 * context with `${aws:PrincipalTag/kubeferry-repository}`, so credentials of pair A's session
 * cannot generate or unwrap pair B's key (in AWS; moto does not enforce IAM, hence the template
 * test). What this bounds is a mistake or a confused step holding A's credentials: the function
 * chooses the tag from the run it serves, so a function whose code is compromised could still ask
 * for B's session — isolation from that takes a separately deployed function set per pair.
 */
export class RepositoryKeyRole extends Construct {
  readonly role: iam.Role;
  /** The role trusted when this one was created (a role needs one); allow() adds the others. */
  private readonly firstUser: iam.IRole;

  constructor(scope: Construct, id: string, props: { key: kms.IKey; firstUser: iam.IRole }) {
    super(scope, id);
    this.firstUser = props.firstUser;
    this.role = new iam.Role(this, "Role", {
      assumedBy: taggedSessionPrincipal(props.firstUser),
      description:
        "kubeferry repository keys: a session tagged with one repository uses the KMS key for it only",
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        // GenerateDataKey creates a repository key and Decrypt unwraps it; never Encrypt.
        actions: ["kms:GenerateDataKey", "kms:Decrypt"],
        resources: [props.key.keyArn],
        conditions: {
          StringEquals: {
            "kms:EncryptionContext:kubeferry:repository": `\${aws:PrincipalTag/${repositoryTagKey}}`,
          },
        },
      }),
    );
  }

  /** Lets a function's role start tagged sessions of this role (the trust and the caller's own permission). */
  allow(user: iam.IRole): void {
    if (user !== this.firstUser)
      this.role.assumeRolePolicy?.addStatements(
        new iam.PolicyStatement({
          principals: [new iam.ArnPrincipal(user.roleArn)],
          actions: ["sts:AssumeRole", "sts:TagSession"],
          conditions: sessionConditions,
        }),
      );
    user.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ["sts:AssumeRole", "sts:TagSession"],
        resources: [this.role.roleArn],
        conditions: sessionConditions,
      }),
    );
  }
}

/** A session must carry the repository tag, and no other tag. */
const sessionConditions = {
  StringLike: { [`aws:RequestTag/${repositoryTagKey}`]: "?*" },
  "ForAllValues:StringEquals": { "aws:TagKeys": [repositoryTagKey] },
};

function taggedSessionPrincipal(user: iam.IRole): iam.IPrincipal {
  return new iam.ArnPrincipal(user.roleArn).withSessionTags().withConditions(sessionConditions);
}
