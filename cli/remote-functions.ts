import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import * as domainErrors from "../functions/lib/errors.ts";
import { migrationRequestSchema, parseRequest } from "../functions/lib/workflow/request.ts";
import type { MigrationRun } from "../functions/lib/workflow/run.ts";
import { UsageError } from "./command.ts";

/** A function error the deployed function reported; a kubeferry domain error comes back as its own class. */
export class RemoteFunctionError extends Error {
  constructor(
    readonly functionName: string,
    readonly errorType: string,
    errorMessage: string,
  ) {
    super(`${functionName} failed with ${errorType}: ${errorMessage}`);
    this.name = errorType;
  }
}

type DomainErrorClass = new (message: string) => Error;

/**
 * Invokes a deployed workflow function (RequestResponse) as Step Functions would, with the
 * Lambda Invoke API: where it runs — its VPC, its role — is what the answer is about. The
 * endpoint and credentials come from the SDK's chain (AWS_ENDPOINT_URL_LAMBDA for a local one).
 */
export async function invokeFunction(functionName: string, payload: unknown): Promise<unknown> {
  const response = await new LambdaClient({}).send(
    new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify(payload)) }),
  );
  const body = response.Payload ? JSON.parse(Buffer.from(response.Payload).toString("utf8")) : null;
  if (response.FunctionError) {
    const errorType = String(body?.errorType ?? response.FunctionError);
    const message = String(body?.errorMessage ?? "");
    // The same classes as in the workflow, so the commands handle a remote PairingError as a local one.
    const known = (domainErrors as Record<string, unknown>)[errorType];
    if (typeof known === "function" && known.prototype instanceof domainErrors.KubeferryError)
      throw new (known as DomainErrorClass)(`${functionName}: ${message}`);
    throw new RemoteFunctionError(functionName, errorType, message);
  }
  return body;
}

/** `--function NAME`, else the environment variable, else a usage error naming the stack's output. */
export function functionNameOption(value: unknown, variable: string, stackOutput: string): string {
  const name = (typeof value === "string" ? value : undefined) ?? process.env[variable];
  if (!name)
    throw new UsageError(`--remote needs --function NAME (the stack's ${stackOutput} output) or ${variable}`);
  return name;
}

/**
 * The `$.run` a Task gets, for invoking one step outside an execution: the pair's checks and the
 * destination's verification read only the pair, the namespaces and the run id.
 */
export function runForInvocation(
  pair: string,
  options: { id: string; namespaces: string[]; startedAt?: string },
): MigrationRun {
  return {
    id: options.id,
    execution: options.id,
    startedAt: options.startedAt ?? new Date().toISOString(),
    request: parseRequest(migrationRequestSchema, { pair, namespaces: options.namespaces }, "request"),
  };
}
