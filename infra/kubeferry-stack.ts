import { Stack, type StackProps } from "aws-cdk-lib";
import type { Construct } from "constructs";
import { StagingStore } from "./constructs/staging-store.ts";

/** Everything kubeferry deploys into one account and region. */
export class KubeferryStack extends Stack {
  readonly staging: StagingStore;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    this.staging = new StagingStore(this, "Staging");
  }
}
