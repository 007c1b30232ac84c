/**
 * The rate of requests the kube-apiserver served, from its own counter (`apiserver_request_total`,
 * summed over every verb, resource and code): /metrics is read once a second with the stack's
 * admin kubeconfig, and the rate is the difference between consecutive samples.
 */
import { request } from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';

export interface RateSample {
  at: number;
  total: number;
}

/** The sum of every `apiserver_request_total` series in a Prometheus text exposition. */
export function sumRequestTotal(text: string): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) total += value;
  }
  return total;
}

/** `apiserver_request_total` summed per verb (GET, LIST, WATCH, PATCH, …), or per verb and resource ("LIST pods"). */
export function requestsByVerb(text: string, withResource = false): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const verb = /[{,]verb="([^"]*)"/.exec(line)?.[1] ?? 'unknown';
    const key = withResource ? `${verb} ${/[{,]resource="([^"]*)"/.exec(line)?.[1] || '-'}` : verb;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) out[key] = (out[key] ?? 0) + value;
  }
  return out;
}

/** What each counter gained between two reads of `requestsByVerb` (counters that did not move left out). */
export function countDeltas(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    Object.keys(after)
      .sort()
      .map((k) => [k, after[k] - (before[k] ?? 0)] as const)
      .filter(([, v]) => v > 0),
  );
}

export class ApiServerRate {
  private readonly samples: RateSample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inFlight = false;
  private readonly kc = new KubeConfig();

  constructor(
    kubeconfig: string,
    private readonly everyMs = 1000,
  ) {
    this.kc.loadFromFile(kubeconfig);
  }

  async start(): Promise<void> {
    await this.sample();
    this.timer = setInterval(() => void this.sample(), this.everyMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.sample();
  }

  /** Requests served between two instants, and the highest one-sample rate (requests per second) among them. */
  window(from: number, to: number): { requests: number; peak_per_s: number; mean_per_s: number; samples: number } {
    const inside = this.samples.filter((s) => s.at >= from - this.everyMs && s.at <= to + this.everyMs);
    let peak = 0;
    for (let i = 1; i < inside.length; i++) {
      const dt = (inside[i].at - inside[i - 1].at) / 1000;
      // A counter that went down: the API server restarted; that interval says nothing.
      if (dt > 0 && inside[i].total >= inside[i - 1].total) peak = Math.max(peak, (inside[i].total - inside[i - 1].total) / dt);
    }
    const requests = inside.length > 1 ? inside[inside.length - 1].total - inside[0].total : 0;
    const seconds = inside.length > 1 ? (inside[inside.length - 1].at - inside[0].at) / 1000 : 0;
    return { requests, peak_per_s: Math.round(peak), mean_per_s: seconds ? Math.round(requests / seconds) : 0, samples: inside.length };
  }

  /** The counter now, read once (no sampling loop). */
  async total(): Promise<number> {
    return sumRequestTotal(await this.metrics());
  }

  /** The counter per verb (or per verb and resource) now, read once. */
  async byVerb(withResource = false): Promise<Record<string, number>> {
    return requestsByVerb(await this.metrics(), withResource);
  }

  private async sample(): Promise<void> {
    // A slow scrape is not stacked under the next one.
    if (this.inFlight) return;
    this.inFlight = true;
    try {
      const text = await this.metrics();
      this.samples.push({ at: Date.now(), total: sumRequestTotal(text) });
    } catch {
      // A missed sample widens one interval; the peak is then a mean over it.
    } finally {
      this.inFlight = false;
    }
  }

  private async metrics(): Promise<string> {
    const cluster = this.kc.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    const url = new URL('/metrics', cluster.server);
    const opts: Parameters<typeof request>[1] = { method: 'GET', headers: {} };
    await this.kc.applyToHTTPSOptions(opts);
    return new Promise((resolve, reject) => {
      const req = request(url, opts, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new Error(`GET /metrics: ${res.statusCode}`));
          return;
        }
        res.setEncoding('utf8');
        let body = '';
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve(body));
      });
      req.setTimeout(5000, () => req.destroy(new Error('GET /metrics timed out')));
      req.once('error', reject);
      req.end();
    });
  }
}
