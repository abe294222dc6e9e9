import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { synthesizedAssembly } from "../../cli/cloud-assembly-cache.ts";
import {
  readCloudAssembly,
  resolveEnvironment,
} from "../../functions/lib/workflow/local-runner/cloud-assembly.ts";
import {
  FunctionError,
  LambdaSandboxes,
} from "../../functions/lib/workflow/local-runner/lambda-sandboxes.ts";

export interface LambdaInvokeApi {
  /** e.g. http://127.0.0.1:41234: give it to the SDK as AWS_ENDPOINT_URL_LAMBDA. */
  endpoint: string;
  stop(): Promise<void>;
}

/**
 * The deployed bundles the local runner invokes (the cloud assembly, each function named after its
 * Task), served behind the Lambda Invoke API on loopback, as `sam local start-lambda` serves a
 * template's functions: `POST /2015-03-31/functions/<name or ARN>/invocations` answers 200 with the
 * result, or 200 with `X-Amz-Function-Error: Unhandled` and `{errorType, errorMessage, trace}` for a
 * function error (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html); an unknown
 * function is 404 ResourceNotFoundException, any invocation type but RequestResponse 400.
 */
export async function startLambdaInvokeApi(
  environment: Record<string, string | null>,
): Promise<LambdaInvokeApi> {
  const assembly = await synthesizedAssembly();
  const { functions } = readCloudAssembly(assembly.dir, assembly.stackName);
  const sandboxes = new LambdaSandboxes(
    Object.fromEntries(
      Object.values(functions).map((fn) => [
        fn.task,
        { ...fn, name: fn.task, environment: resolveEnvironment(fn, environment) },
      ]),
    ),
  );
  const server = createServer(async (request, response) => {
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      response.writeHead(status, { "content-type": "application/json", ...headers });
      response.end(JSON.stringify(body));
    };
    const match = /^\/2015-03-31\/functions\/([^/]+)\/invocations(?:\?.*)?$/.exec(request.url ?? "");
    if (request.method !== "POST" || !match?.[1]) {
      send(
        404,
        { Type: "User", message: `no route ${request.method} ${request.url}` },
        {
          "x-amzn-errortype": "UnknownOperationException",
        },
      );
      return;
    }
    const type = request.headers["x-amz-invocation-type"] ?? "RequestResponse";
    if (type !== "RequestResponse") {
      send(
        400,
        { Type: "User", message: `invocation type ${type} is not served here` },
        {
          "x-amzn-errortype": "InvalidParameterValueException",
        },
      );
      return;
    }
    // A name, a partial or a full ARN (with a qualifier): the function's name is the part after "function:".
    const name = decodeURIComponent(match[1])
      .replace(/^.*function:/, "")
      .split(":")[0] as string;
    if (!(name in functions)) {
      send(
        404,
        { Type: "User", message: `Function not found: ${name}` },
        {
          "x-amzn-errortype": "ResourceNotFoundException",
        },
      );
      return;
    }
    const raw = await body(request);
    try {
      const result = await sandboxes.invoke(name, raw.length > 0 ? JSON.parse(raw) : {});
      send(200, result, { "x-amz-executed-version": "$LATEST" });
    } catch (error) {
      if (!(error instanceof FunctionError)) throw error;
      send(
        200,
        { errorType: error.errorType, errorMessage: error.errorMessage, trace: [] },
        {
          "x-amz-function-error": "Unhandled",
          "x-amz-executed-version": "$LATEST",
        },
      );
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await sandboxes.close();
    },
  };
}

async function body(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
