import { Controller, Get, Inject, Logger } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckResult, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { Connection } from '@temporalio/client';
import { DataSource } from 'typeorm';
import { CAELUS_CONFIG, CaelusConfig } from '../../../../libs/config/src';
import { TEMPORAL_CONNECTION } from '../../../../libs/core/src';
import { Public } from '../auth/auth.decorators';
import { cacheFor } from '../http/cache-for';

const withTimeout = <T>(p: Promise<T>, ms: number): Promise<T> => {
  // A probe that outlives its timeout may still fail later (a connection closed at shutdown): not an unhandled rejection.
  p.catch(() => undefined);
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref())]);
};

/** One indicator per dependency (STYLE.md #11). */
@ApiTags('health')
@Controller('health')
export class HealthController {
  private kubeVersion?: () => Promise<unknown>;
  private readonly logger = new Logger('Health');
  private cachedCheck?: () => Promise<HealthCheckResult>;

  constructor(
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(HealthIndicatorService) private readonly indicators: HealthIndicatorService,
    @Inject(DataSource) private readonly db: DataSource,
    @Inject(TEMPORAL_CONNECTION) private readonly temporal: Connection,
    @Inject(CAELUS_CONFIG) private readonly config: CaelusConfig,
  ) {}

  @Get('live')
  @Public()
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get()
  @Public()
  @HealthCheck()
  check(): Promise<HealthCheckResult> {
    // Probes are public: one result answers them all for CAELUS_PROBE_CACHE_SECONDS.
    this.cachedCheck ??= cacheFor(this.config.probeCacheSeconds * 1000, () =>
      this.health.check([
        () => this.probe('database', () => this.db.query('SELECT 1')),
        () => this.probe('temporal', () => this.temporal.healthService.check({})),
        () => this.probe('kubernetes', () => this.kube()),
      ]),
    );
    return this.cachedCheck();
  }

  private async probe(key: string, fn: () => Promise<unknown>) {
    const session = this.indicators.check(key);
    try {
      await withTimeout(fn(), 3000);
      return session.up();
    } catch (err) {
      // The driver's text (hosts, ports, users) stays in the log; the public answer says only "down".
      this.logger.warn({ dependency: key, err: (err as Error).message.split('\n')[0].slice(0, 200), msg: 'health check failed' });
      return session.down({ message: 'down' });
    }
  }

  private async kube(): Promise<unknown> {
    if (!this.config.kubeconfig && !this.config.inCluster) throw new Error('KUBECONFIG is not set');
    if (!this.kubeVersion) {
      const k8s = await import('@kubernetes/client-node');
      const kc = new k8s.KubeConfig();
      if (this.config.kubeconfig) kc.loadFromFile(this.config.kubeconfig);
      else kc.loadFromCluster();
      const api = kc.makeApiClient(k8s.VersionApi);
      this.kubeVersion = () => api.getCode();
    }
    return this.kubeVersion();
  }
}
