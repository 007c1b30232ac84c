import * as fs from 'node:fs';
import * as path from 'node:path';
import { LOCAL_DIR, logFile } from '../paths';
import { httpStatus, isAlive, readPid, run, spawnDetached, stopRecorded, tail, waitFor } from '../proc';
import { toolBinary, toolDir } from '../tools';
import { HOST, PORTS, TOOLS } from '../versions';
import { KUBECONFIG } from './kubernetes';
import { Component, ComponentError, Health, Log } from './types';

const NAME = 'flux';

interface Controller {
  /** Pid and log name. */
  name: string;
  binary: string;
  health: number;
  args: string[];
}

const STORAGE_DIR = path.join(LOCAL_DIR, 'flux', 'storage');

/**
 * Flux's source-controller and helm-controller (`stack:up -- --with-flux`), run as plain
 * processes against the local kube-apiserver, each on its own loopback ports, with their CRDs
 * applied from the tool cache. Never part of the default stack.
 */
export const FLUX_CONTROLLERS: Controller[] = [
  {
    name: 'flux-source-controller',
    binary: 'source-controller',
    health: PORTS.fluxSourceHealth,
    args: [
      `--storage-path=${STORAGE_DIR}`,
      // The artifact server helm-controller fetches charts from; the advertised address goes into status.artifact.url.
      `--storage-addr=${HOST}:${PORTS.fluxSourceArtifacts}`,
      `--storage-adv-addr=${HOST}:${PORTS.fluxSourceArtifacts}`,
      `--metrics-addr=${HOST}:${PORTS.fluxSourceMetrics}`,
      `--health-addr=${HOST}:${PORTS.fluxSourceHealth}`,
      '--log-encoding=json',
    ],
  },
  {
    name: 'flux-helm-controller',
    binary: 'helm-controller',
    health: PORTS.fluxHelmHealth,
    args: [
      `--metrics-addr=${HOST}:${PORTS.fluxHelmMetrics}`,
      `--health-addr=${HOST}:${PORTS.fluxHelmHealth}`,
      '--log-encoding=json',
      // As many releases at once as a Caelus worker has helm slots (CAELUS_HELM_CONCURRENCY's default), and
      // Helm 3's client-side apply and wait, as the helm CLI Caelus runs: like for like in the peer benchmark.
      // Without DisableChartDigestTracking a digest-pinned chart renders as version `1.0.0+<digest>`, and
      // the usual `helm.sh/chart` label then carries a `+`, which Kubernetes refuses.
      '--concurrent=10',
      '--feature-gates=UseHelm3Defaults=true,DisableChartDigestTracking=true',
    ],
  },
];

/** The CRD files both controllers' modules ship (copied into the tool cache when they were built). */
export function fluxCrdDirs(): string[] {
  return [path.join(toolDir(TOOLS.find((t) => t.name === 'flux')!), 'crds')];
}

export class FluxComponent implements Component {
  readonly name = NAME;
  readonly logFile = logFile('flux-helm-controller');

  private async ready(c: Controller): Promise<boolean> {
    return (await httpStatus(`http://${HOST}:${c.health}/readyz`)) === 200;
  }

  async health(): Promise<Health> {
    const down: string[] = [];
    for (const c of FLUX_CONTROLLERS) if (!(await this.ready(c))) down.push(`${c.binary} ${HOST}:${c.health}/readyz not ready`);
    return down.length
      ? { ok: false, detail: down.join('; ') }
      : { ok: true, detail: FLUX_CONTROLLERS.map((c) => `${c.binary} ready`).join(', ') + `; artifacts http://${HOST}:${PORTS.fluxSourceArtifacts}` };
  }

  async up(log: Log): Promise<void> {
    // The CRDs first: the controllers' caches wait for them. Server-side apply: helmreleases' CRD is
    // too large for the last-applied annotation of a client-side apply.
    const apply = await run(toolBinary('kubectl'), ['--kubeconfig', KUBECONFIG, 'apply', '--server-side', '--force-conflicts', ...fluxCrdDirs().flatMap((d) => ['-f', d])], {
      timeoutMs: 120_000,
    });
    if (apply.code !== 0) throw new ComponentError(NAME, this.logFile, `applying the Flux CRDs failed: ${apply.stderr.trim()}`);
    const established = await run(
      toolBinary('kubectl'),
      ['--kubeconfig', KUBECONFIG, 'wait', '--for=condition=Established', '--timeout=60s', 'crd/helmreleases.helm.toolkit.fluxcd.io', 'crd/ocirepositories.source.toolkit.fluxcd.io'],
      { timeoutMs: 90_000 },
    );
    if (established.code !== 0) throw new ComponentError(NAME, this.logFile, `the Flux CRDs were not established: ${established.stderr.trim()}`);
    fs.mkdirSync(STORAGE_DIR, { recursive: true });
    for (const c of FLUX_CONTROLLERS) {
      if (await this.ready(c)) continue;
      const pid = readPid(c.name);
      if (pid === undefined || !isAlive(pid)) {
        log(`flux: starting ${c.binary} (health ${HOST}:${c.health})`);
        // Only what a controller needs: no credentials of the invoking shell reach it.
        spawnDetached(c.name, toolBinary(c.binary), c.args, logFile(c.name), {
          env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/', KUBECONFIG },
        });
      }
    }
    for (const c of FLUX_CONTROLLERS) {
      try {
        await waitFor(`${c.binary} /readyz`, () => this.ready(c), 60_000, 500, c.name);
      } catch (err) {
        throw new ComponentError(NAME, logFile(c.name), `${(err as Error).message}\n${tail(logFile(c.name))}`);
      }
    }
  }

  async down(): Promise<string> {
    const stopped: string[] = [];
    for (const c of [...FLUX_CONTROLLERS].reverse()) if (await stopRecorded(c.name)) stopped.push(c.binary);
    return stopped.length ? `stopped ${stopped.join(', ')}` : 'was not running (from this stack)';
  }

  endpoints(): Array<[string, string]> {
    return [
      ['Flux source-controller', `artifacts http://${HOST}:${PORTS.fluxSourceArtifacts}, metrics ${HOST}:${PORTS.fluxSourceMetrics}`],
      ['Flux helm-controller', `metrics ${HOST}:${PORTS.fluxHelmMetrics}`],
    ];
  }

  env(): Record<string, string> {
    return { CAELUS_STACK_FLUX: '1' };
  }
}
