import { join } from "node:path";
import { App, type AppProps, Validations } from "aws-cdk-lib";
import cdkNag from "cdk-nag";
import { loadDeploymentConfig } from "./config.ts";
import { KubeferryStack } from "./kubeferry-stack.ts";

/** The CDK app, with the AwsSolutions rule pack run over everything in it. */
export function kubeferryApp(props: AppProps = {}): { app: App; stack: KubeferryStack } {
  const app = new App({
    ...props,
    context: {
      // Grant log delivery through the log bucket's policy, not an ACL: ACLs are disabled.
      "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": true,
      ...props.context,
    },
  });
  const configFile =
    (app.node.tryGetContext("kubeferry:config") as string | undefined) ??
    join(import.meta.dirname, "..", "kubeferry.config.json");
  const stack = new KubeferryStack(app, "Kubeferry", {
    config: loadDeploymentConfig(configFile),
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
  // cdk-nag is CommonJS (jsii): Node's ESM loader cannot see its named exports.
  Validations.of(app).addPlugins(new cdkNag.AwsSolutionsChecks(app, { verbose: true }));
  return { app, stack };
}
