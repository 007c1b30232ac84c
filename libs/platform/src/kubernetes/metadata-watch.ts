import { ApiException } from '@kubernetes/client-node';
import type { RequestContext } from '@kubernetes/client-node';
import { fetch } from 'undici';

import { KubeError, toKubeError } from './kube.errors';
import type { KubeObject } from './kube.types';

// Hand-written on purpose: client-node's Watch/ListWatch build their own request, with no way
// to ask for metadata only (PartialObjectMetadata), so they would stream whole release Secrets;
// they also drop JSON parse errors and use a new agent per request. This reads the watch
// stream itself, on the client's shared connection.

/** One event of a watch: ADDED, MODIFIED, DELETED, BOOKMARK (a resourceVersion only) or ERROR (a Status). */
export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: KubeObject;
}

export interface WatchMetadataOptions {
  labelSelector?: string;
  /** e.g. `metadata.name=web-1`: one object of the kind. */
  fieldSelector?: string;
  /** Where the watch starts: the resourceVersion of the list it follows, or of the last event seen. */
  resourceVersion: string;
  /** The API server ends the watch after this long (the caller then watches again). */
  timeoutSeconds: number;
  /** Aborts the watch when nothing (not even the end of the stream) arrived for this long. */
  idleTimeoutMs: number;
  signal?: AbortSignal;
}

/**
 * Reads one metadata watch: calls `onEvent` for each event in order. Resolves when the server
 * ends the watch (its timeoutSeconds); rejects with a KubeError on an HTTP error, a network
 * failure, an idle stream or an ERROR event (410 Expired: the caller lists again). `onEvent`
 * may throw to end the watch. `request` builds the authenticated request for the query.
 */
export async function watchMetadata(
  action: string,
  request: (query: Record<string, string>) => Promise<RequestContext>,
  options: WatchMetadataOptions,
  onEvent: (event: WatchEvent) => void,
): Promise<void> {
  const controller = new AbortController();
  const onAbort = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  let idle: NodeJS.Timeout | undefined;
  const armIdle = () => {
    clearTimeout(idle);
    idle = setTimeout(() => controller.abort(new KubeError(`${action}: nothing received for ${Math.round(options.idleTimeoutMs / 1000)}s`, undefined, 'Timeout', true)), options.idleTimeoutMs);
    idle.unref();
  };
  try {
    armIdle();
    const query: Record<string, string> = {
      watch: '1',
      allowWatchBookmarks: 'true',
      resourceVersion: options.resourceVersion,
      timeoutSeconds: String(options.timeoutSeconds),
    };
    if (options.labelSelector) query.labelSelector = options.labelSelector;
    if (options.fieldSelector) query.fieldSelector = options.fieldSelector;
    const ctx = await request(query);
    const response = await fetch(ctx.getUrl(), { method: 'GET', headers: ctx.getHeaders(), dispatcher: ctx.getDispatcher(), signal: controller.signal });
    if (response.status !== 200) {
      throw toKubeError(new ApiException(response.status, 'Unsuccessful HTTP Request', await response.text(), {}), action);
    }
    if (!response.body) return;
    const decoder = new TextDecoder();
    // One JSON event per line; a chunk may end inside a line, which is carried to the next.
    let carried = '';
    for await (const chunk of response.body) {
      armIdle();
      const lines = (carried + decoder.decode(chunk as Uint8Array, { stream: true })).split('\n');
      carried = lines.pop() ?? '';
      for (const raw of lines) {
        const line = raw.trim();
        if (!line) continue;
        const event = JSON.parse(line) as WatchEvent;
        if (event.type === 'ERROR') {
          const status = event.object as unknown as { code?: number; reason?: string; message?: string };
          throw new KubeError(`${action}: ${status.message ?? 'watch error'}`, status.code, status.reason, true);
        }
        onEvent(event);
      }
    }
  } catch (err) {
    if (controller.signal.aborted && controller.signal.reason instanceof KubeError) throw controller.signal.reason;
    throw err instanceof KubeError ? err : toKubeError(err, action);
  } finally {
    clearTimeout(idle);
    options.signal?.removeEventListener('abort', onAbort);
    controller.abort();
  }
}
