import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, Stack, Validations } from "aws-cdk-lib";
import { Match } from "aws-cdk-lib/assertions";
import * as s3 from "aws-cdk-lib/aws-s3";
import cdkNag from "cdk-nag";
import { describe, expect, it, onTestFinished } from "vitest";
import { synthesize } from "./synthesize.ts";

describe("staging store", () => {
  const { template } = synthesize();

  it("has a rotating customer-managed key with the kubeferry alias", () => {
    template.hasResourceProperties("AWS::KMS::Key", { EnableKeyRotation: true });
    template.hasResourceProperties("AWS::KMS::Alias", { AliasName: "alias/kubeferry" });
  });

  it("blocks public access, disables ACLs and encrypts with the key and bucket keys", () => {
    template.hasResourceProperties("AWS::S3::Bucket", {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      OwnershipControls: { Rules: [{ ObjectOwnership: "BucketOwnerEnforced" }] },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: {
              SSEAlgorithm: "aws:kms",
              KMSMasterKeyID: Match.objectLike({
                "Fn::GetAtt": [Match.stringLikeRegexp("StagingKey"), "Arn"],
              }),
            },
          },
        ],
      },
      LifecycleConfiguration: {
        Rules: [Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } })],
      },
      LoggingConfiguration: {
        DestinationBucketName: { Ref: Match.stringLikeRegexp("StagingAccessLogs") },
      },
      VersioningConfiguration: Match.absent(),
    });
  });

  it("denies requests without TLS on both buckets", () => {
    const policies = template.findResources("AWS::S3::BucketPolicy");
    expect(Object.keys(policies)).toHaveLength(2);
    for (const policy of Object.values(policies)) {
      expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({
          Effect: "Deny",
          Condition: { Bool: { "aws:SecureTransport": "false" } },
        }),
      );
    }
  });
});

describe("cdk-nag AwsSolutions", () => {
  it("reports no unacknowledged finding on the app", () => {
    expect(() => synthesize()).not.toThrow();
  });

  it("reports none either when bound to an account and region, as `cdk synth` binds it", () => {
    const saved = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
    process.env.CDK_DEFAULT_ACCOUNT = "123456789012";
    process.env.CDK_DEFAULT_REGION = "eu-west-1";
    try {
      expect(() => synthesize()).not.toThrow();
    } finally {
      for (const [name, value] of [
        ["CDK_DEFAULT_ACCOUNT", saved.account],
        ["CDK_DEFAULT_REGION", saved.region],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  it("is really running: an unhardened bucket fails the same pack", () => {
    const outdir = mkdtempSync(join(tmpdir(), "kubeferry-cdk-"));
    onTestFinished(() => rmSync(outdir, { recursive: true, force: true }));
    const app = new App({ outdir });
    new s3.Bucket(new Stack(app, "Unhardened"), "Bucket");
    Validations.of(app).addPlugins(new cdkNag.AwsSolutionsChecks(app));
    expect(() => app.synth()).toThrow(/AwsSolutions-S1/);
  });
});
