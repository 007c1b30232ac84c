import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { Counter } from 'prom-client';
import { createMetricsRegistry } from './metrics';
import { fetchExposition, MetricsServer, startMetricsServer } from './metrics-server';

describe(startMetricsServer.name, () => {
  let sut: MetricsServer | undefined;
  const url = (path: string) => `http://127.0.0.1:${sut!.port}${path}`;

  afterEach(async () => {
    await sut?.close();
    sut = undefined;
  });

  function registryWithOneCounter() {
    const registry = createMetricsRegistry({ defaultMetrics: false });
    new Counter({ name: 'caelus_test_total', help: 'test', registers: [registry] }).inc(5);
    return registry;
  }

  it('serves the registry and the extra exposition on /metrics', async () => {
    sut = await startMetricsServer({ port: 0, host: '127.0.0.1', registry: registryWithOneCounter(), extra: async () => '# TYPE temporal_request counter\ntemporal_request 3\n' });
    const res = await fetch(url('/metrics'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toContain('caelus_test_total 5');
    expect(text).toContain('temporal_request 3');
    expect(text.endsWith('\n')).toBe(true);
  });

  it('still serves its own metrics when the extra source fails', async () => {
    sut = await startMetricsServer({ port: 0, host: '127.0.0.1', registry: registryWithOneCounter(), extra: () => Promise.reject(new Error('down')) });
    const res = await fetch(url('/metrics'));
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('caelus_test_total 5');
  });

  it('answers the probes: live always, ready from the callback', async () => {
    let ready = false;
    sut = await startMetricsServer({ port: 0, host: '127.0.0.1', registry: registryWithOneCounter(), ready: () => ready });
    expect((await fetch(url('/health/live'))).status).toBe(200);
    expect((await fetch(url('/health'))).status).toBe(503);
    ready = true;
    const res = await fetch(url('/health'));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('refuses other paths and methods', async () => {
    sut = await startMetricsServer({ port: 0, host: '127.0.0.1', registry: registryWithOneCounter() });
    expect((await fetch(url('/nope'))).status).toBe(404);
    expect((await fetch(url('/metrics'), { method: 'POST' })).status).toBe(405);
  });

  it('rejects when the port is taken', async () => {
    const first = await startMetricsServer({ port: 0, host: '127.0.0.1', registry: registryWithOneCounter() });
    try {
      await expect(startMetricsServer({ port: first.port, host: '127.0.0.1', registry: registryWithOneCounter() })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await first.close();
    }
  });
});

describe(fetchExposition.name, () => {
  it('returns the text of an exporter, undefined when it does not answer or fails', async () => {
    const server = createServer((req, res) => {
      if (req.url === '/metrics') res.end('temporal_x 1\n');
      else res.writeHead(500).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    try {
      expect(await fetchExposition(`http://127.0.0.1:${port}/metrics`)).toBe('temporal_x 1\n');
      expect(await fetchExposition(`http://127.0.0.1:${port}/other`)).toBeUndefined();
    } finally {
      await new Promise((r) => server.close(r));
    }
    expect(await fetchExposition(`http://127.0.0.1:${port}/metrics`, 500)).toBeUndefined();
  });
});
