import { Runtime } from '@temporalio/worker';

/**
 * Installs the Temporal runtime with its Prometheus exporter on loopback (the worker's /metrics
 * merges it). Must run before the first NativeConnection. Returns the exporter's URL, or
 * undefined when it could not start (port taken, runtime already created): the worker then runs
 * without the SDK's metrics rather than not at all.
 */
export function installTemporalRuntime(port: number, warn: (msg: string) => void): string | undefined {
  if (port === 0) return undefined;
  const bindAddress = `127.0.0.1:${port}`;
  try {
    Runtime.install({ telemetryOptions: { metrics: { prometheus: { bindAddress } } } });
    return `http://${bindAddress}/metrics`;
  } catch (err) {
    warn(`Temporal SDK metrics are not exported: ${(err as Error).message}`);
    return undefined;
  }
}
