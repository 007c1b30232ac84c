import { setTimeout as delay } from 'node:timers/promises';
import { Controller, Get, Inject, Logger } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckResult, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { CAELUS_CONFIG, CaelusConfig } from '../../../../libs/config/src';
import { Public } from '../auth/auth.decorators';
import { cacheFor } from '../http/cache-for';
import { DependencyProbes } from './dependency-probes';

const withTimeout = <T>(p: Promise<T>, ms: number): Promise<T> => {
  // A probe that outlives its timeout may still fail later (a connection closed at shutdown): not an unhandled rejection.
  p.catch(() => undefined);
  const late = delay(ms, undefined, { ref: false }).then((): never => {
    throw new Error(`no answer within ${ms} ms`);
  });
  return Promise.race([p, late]);
};

/** One indicator per dependency. */
@ApiTags('health')
@Controller('health')
export class HealthController {
  private readonly logger = new Logger('Health');
  private cachedCheck?: () => Promise<HealthCheckResult>;

  constructor(
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(HealthIndicatorService) private readonly indicators: HealthIndicatorService,
    @Inject(DependencyProbes) private readonly probes: DependencyProbes,
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
        () => this.probe('database', () => this.probes.database()),
        () => this.probe('temporal', () => this.probes.temporal()),
        () => this.probe('kubernetes', () => this.probes.kubernetes()),
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
}
