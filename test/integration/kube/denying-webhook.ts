import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { KubeObject } from "../../../functions/lib/kube/objects.ts";
import { selfSignedCertificate } from "../../env/self-signed-certificate.ts";

export interface DenyingWebhook {
  /** A ValidatingWebhookConfiguration sending ConfigMaps of `namespace` to this server. */
  configuration: KubeObject;
  close(): Promise<void>;
}

/**
 * A real admission webhook on loopback (the API server calls it over HTTPS) that refuses
 * ConfigMaps with the given name, with `message`, and admits everything else.
 */
export async function startDenyingWebhook(
  namespace: string,
  deniedName: string,
  message: string,
): Promise<DenyingWebhook> {
  const tls = selfSignedCertificate();
  const server = createServer(tls, (request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const review = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
        request: { uid: string; name?: string };
      };
      const denied = review.request.name === deniedName;
      response.writeHead(200, { "content-type": "application/json" }).end(
        JSON.stringify({
          apiVersion: "admission.k8s.io/v1",
          kind: "AdmissionReview",
          response: {
            uid: review.request.uid,
            allowed: !denied,
            ...(denied ? { status: { code: 403, message } } : {}),
          },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    configuration: {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingWebhookConfiguration",
      metadata: { name: `deny-${deniedName}` },
      webhooks: [
        {
          name: "deny.kubeferry.test",
          clientConfig: { url: `https://127.0.0.1:${port}/validate`, caBundle: tls.cert.toString("base64") },
          rules: [
            {
              apiGroups: [""],
              apiVersions: ["v1"],
              operations: ["CREATE", "UPDATE"],
              resources: ["configmaps"],
            },
          ],
          namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } },
          sideEffects: "None",
          admissionReviewVersions: ["v1"],
          failurePolicy: "Fail",
          timeoutSeconds: 5,
        },
      ],
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
