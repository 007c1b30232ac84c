import type { KubeConfig, RequestContext, SecurityAuthentication } from '@kubernetes/client-node';

/**
 * The kubeconfig's authentication, with one undici dispatcher kept for the client's lifetime.
 * client-node 2.0 builds a new Agent for every request (kubernetes-client/javascript#2893), so
 * every API call paid a TCP connect and a TLS handshake, on both sides: most of the worker's
 * CPU in drift checks. Like the library's own websocket agent cache, the connection identity
 * (CA, client certificate) is the one read first.
 *
 * The library's authentication also re-reads the CA, certificate and key files and builds (and
 * here drops) an Agent for every request. So the headers it sets (a bearer token, basic auth,
 * impersonation) are kept and re-applied, and the full path runs again every `refreshMs`, so a
 * rotated token file or an expiring exec credential is picked up within that time, as client-go
 * re-reads token files once a minute.
 */
export function sharedDispatcherAuth(kc: Pick<KubeConfig, 'getName' | 'applySecurityAuthentication'>, refreshMs = 60_000, now: () => number = Date.now): SecurityAuthentication {
  let shared: ReturnType<RequestContext['getDispatcher']>;
  let authHeaders: [string, string][] | undefined;
  let readAt = 0;
  return {
    getName: () => kc.getName(),
    applySecurityAuthentication: async (ctx: RequestContext) => {
      if (shared && authHeaders && now() - readAt < refreshMs) {
        for (const [name, value] of authHeaders) ctx.setHeaderParam(name, value);
        ctx.setDispatcher(shared);
        return;
      }
      const before = { ...ctx.getHeaders() };
      await kc.applySecurityAuthentication(ctx);
      authHeaders = Object.entries(ctx.getHeaders()).filter(([name, value]) => before[name] !== value);
      readAt = now();
      shared ??= ctx.getDispatcher();
      if (shared) ctx.setDispatcher(shared);
    },
  };
}
