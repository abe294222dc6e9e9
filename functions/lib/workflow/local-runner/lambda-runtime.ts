// The runtime inside one local Lambda sandbox (a worker thread): it imports the function's
// deployed bundle once, as a Lambda container does, and answers invocations one at a time.
// Run by Node itself (type stripping), so it uses erasable TypeScript only.

import { pathToFileURL } from "node:url";
import { parentPort, workerData } from "node:worker_threads";

interface Invocation {
  requestId: string;
  event: unknown;
  deadline: number;
}

const { bundle, handlerExport, functionName, memoryLimitInMB } = workerData as {
  bundle: string;
  handlerExport: string;
  functionName: string;
  memoryLimitInMB: number;
};
const module = (await import(pathToFileURL(bundle).href)) as Record<string, unknown>;
const handler = module[handlerExport] as (event: unknown, context: unknown) => Promise<unknown>;
if (typeof handler !== "function") throw new Error(`${bundle} exports no function "${handlerExport}"`);

parentPort?.on("message", async ({ requestId, event, deadline }: Invocation) => {
  const context = {
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: String(memoryLimitInMB),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: requestId,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  try {
    // Lambda serializes the result as JSON: undefined becomes null, classes become plain objects.
    const result = JSON.parse(JSON.stringify((await handler(event, context)) ?? null));
    parentPort?.postMessage({ requestId, result });
  } catch (error) {
    // The Node.js runtime reports an error's name as its type.
    const failure = error instanceof Error ? error : new Error(String(error));
    parentPort?.postMessage({
      requestId,
      error: {
        errorType: failure.name,
        errorMessage: failure.message,
        trace: (failure.stack ?? "").split("\n"),
      },
    });
  }
});
parentPort?.postMessage({ ready: true });
