import { Controller, Get, Inject } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { Connection } from '@temporalio/client';
import { DataSource } from 'typeorm';
import { CAELUS_CONFIG, CaelusConfig } from '../../../../libs/config/src';
import { TEMPORAL_CONNECTION } from '../../../../libs/core/src';
import { Public } from '../auth/auth.decorators';

const withTimeout = <T>(p: Promise<T>, ms: number): Promise<T> =>
  Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref())]);

/** One indicator per dependency (STYLE.md #11). */
@ApiTags('health')
@Controller('health')
export class HealthController {
  private kubeVersion?: () => Promise<unknown>;

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
  check() {
    return this.health.check([
      () => this.probe('database', () => this.db.query('SELECT 1')),
      () => this.probe('temporal', () => this.temporal.healthService.check({})),
      () => this.probe('kubernetes', () => this.kube()),
    ]);
  }

  private async probe(key: string, fn: () => Promise<unknown>) {
    const session = this.indicators.check(key);
    try {
      await withTimeout(fn(), 3000);
      return session.up();
    } catch (err) {
      return session.down({ message: (err as Error).message.split('\n')[0].slice(0, 200) });
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
