import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';

export interface MetricsServerOptions {
  port: number;
  host?: string;
  registry: Registry;
  /** More exposition text for /metrics (the Temporal SDK's exporter); undefined or a failure leaves it out. */
  extra?: () => Promise<string | undefined>;
  /** Readiness for `GET /health`: 200 while true, 503 otherwise. */
  ready?: () => boolean;
}

export interface MetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * A small HTTP listener for a process without an HTTP app (the worker): `/metrics` for Prometheus,
 * `/health/live` (the process answers) and `/health` (it is doing its job) for probes.
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    handle(options, req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('metrics unavailable\n');
    });
  });
  // A slow or stuck scraper must not hold sockets forever.
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function handle(options: MetricsServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  if (path === '/metrics') {
    const [own, extra] = await Promise.all([options.registry.metrics(), options.extra?.().catch(() => undefined)]);
    res.writeHead(200, { 'content-type': options.registry.contentType });
    res.end(extra ? `${own.trimEnd()}\n${extra.trimEnd()}\n` : own);
    return;
  }
  if (path === '/health/live') {
    json(res, 200, { status: 'ok' });
    return;
  }
  if (path === '/health') {
    const ready = options.ready?.() ?? true;
    json(res, ready ? 200 : 503, { status: ready ? 'ok' : 'unavailable' });
    return;
  }
  json(res, 404, { status: 'not found' });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** Reads another exporter's text (e.g. the Temporal SDK's on loopback); undefined when it does not answer. */
export async function fetchExposition(url: string, timeoutMs = 2000): Promise<string | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return res.ok ? await res.text() : undefined;
  } catch {
    return undefined;
  }
}
