import type {
  ClusterClient,
  KubeRequest,
  KubeResponse,
} from "../../../functions/lib/kube/client/cluster-client.ts";

/** What a step sees when its Lambda is killed at a request: the call never returns. */
export class InjectedCrash extends Error {
  override readonly name = "InjectedCrash";
}

/**
 * Where a step dies: at its `at`-th mutating request (POST, PUT, PATCH, DELETE) over every client
 * the fault wraps, either before the request reaches the server or after the server applied it
 * and before the answer arrives (a Lambda killed mid-call). Reads pass, since only a mutation
 * leaves a state a rerun must cope with.
 */
export class Fault {
  mutations = 0;
  crashed = false;

  constructor(
    readonly at: number,
    readonly when: "before" | "after",
  ) {}

  wrap(inner: ClusterClient): ClusterClient {
    return {
      name: inner.name,
      server: inner.server,
      kubeConfig: inner.kubeConfig,
      close: () => inner.close(),
      request: <T>(request: KubeRequest) => this.send<T>(inner, request),
    };
  }

  private async send<T>(inner: ClusterClient, request: KubeRequest): Promise<KubeResponse<T>> {
    // Once dead, a step sends nothing more (a sibling promise of the same step may still try).
    if (this.crashed) throw new InjectedCrash("the step was already killed");
    if (request.method === "GET" || ++this.mutations !== this.at) return inner.request<T>(request);
    if (this.when === "before") this.crash(request);
    // Applied or refused, the answer is lost with the Lambda.
    await inner.request(request).catch(() => undefined);
    this.crash(request);
  }

  private crash(request: KubeRequest): never {
    this.crashed = true;
    throw new InjectedCrash(`killed ${this.when} ${request.method} ${request.path}`);
  }
}
