import { type Stack, Token } from "aws-cdk-lib";

/**
 * An ARN as cdk-nag spells it in a finding id: the stack's region and account as written when
 * the stack is bound to an environment, as `<AWS::Region>`/`<AWS::AccountId>` when it is not.
 */
export function nagArn(stack: Stack, service: string, resource: string, regionOverride?: string): string {
  const region = regionOverride ?? (Token.isUnresolved(stack.region) ? "<AWS::Region>" : stack.region);
  const account = Token.isUnresolved(stack.account) ? "<AWS::AccountId>" : stack.account;
  return `arn:<AWS::Partition>:${service}:${region}:${account}:${resource}`;
}
