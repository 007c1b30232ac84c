import { randomUUID } from 'node:crypto';
import { IncomingMessage } from 'node:http';
import { Logger, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import { LoggerModule } from 'nestjs-pino';
import { CAELUS_CONFIG, CaelusConfig } from '../../../libs/config/src';
import { CoreModule } from '../../../libs/core/src';
import { UsersService } from '../../../libs/domain/src';
import { ApiMetrics, createMetricsRegistry, LOG_REDACT_CENSOR, LOG_REDACT_PATHS } from '../../../libs/observability/src';
import { DEPLOYMENT_STATUSES, DeploymentsRepository } from '../../../libs/persistence/src';
import { AuthGuard } from './auth/auth.guard';
import { rateLimitTracker } from './auth/request-principal';
import { cacheFor } from './http/cache-for';
import { SessionController } from './console/session.controller';
import { AllDeploymentsController } from './deployments/all-deployments.controller';
import { DeploymentsController } from './deployments/deployments.controller';
import { DependencyProbes } from './health/dependency-probes';
import { HealthController } from './health/health.controller';
import { DomainExceptionFilter } from './http/domain-exception.filter';
import { MetricsController } from './metrics/metrics.controller';
import { ProductsController } from './products/products.controller';
import { RolloutsController } from './products/rollouts.controller';
import { TemplatesController } from './templates/templates.controller';
import { UsersController } from './users/users.controller';

@Module({
  imports: [
    CoreModule,
    LoggerModule.forRootAsync({
      // The config CoreModule loaded once (as in the worker).
      inject: [CAELUS_CONFIG],
      useFactory: (cfg: CaelusConfig) => {
        return {
          pinoHttp: {
            level: cfg.logLevel,
            redact: { paths: [...LOG_REDACT_PATHS], censor: LOG_REDACT_CENSOR },
            genReqId: (req: IncomingMessage) => {
              const incoming = req.headers['x-request-id'];
              return typeof incoming === 'string' && /^[\w.-]{1,64}$/.test(incoming) ? incoming : randomUUID();
            },
            autoLogging: { ignore: (req: IncomingMessage) => (req.url?.startsWith('/health') || req.url?.startsWith('/metrics')) ?? false },
            quietReqLogger: true,
          },
        };
      },
    }),
    ThrottlerModule.forRootAsync({
      inject: [CAELUS_CONFIG, UsersService],
      useFactory: (cfg: CaelusConfig, users: UsersService) => ({
        throttlers: [{ ttl: cfg.rateLimit.ttlSeconds * 1000, limit: cfg.rateLimit.limit }],
        getTracker: (req: Record<string, unknown>) => rateLimitTracker(req, users),
      }),
    }),
    TerminusModule,
  ],
  controllers: [UsersController, ProductsController, TemplatesController, DeploymentsController, HealthController, MetricsController, SessionController, AllDeploymentsController, RolloutsController],
  providers: [
    DependencyProbes,
    {
      provide: ApiMetrics,
      useFactory: (deployments: DeploymentsRepository, cfg: CaelusConfig) => {
        const logger = new Logger('Metrics');
        return new ApiMetrics(
          createMetricsRegistry(),
          // Scrapes are public and unthrottled: count in Postgres at most once per interval.
          cacheFor(cfg.probeCacheSeconds * 1000, () => deployments.countByStatus()),
          DEPLOYMENT_STATUSES.filter((s) => s !== 'deleted'),
          (err) => logger.warn({ err: (err as Error).message, msg: 'could not count deployments for /metrics' }),
        );
      },
      inject: [DeploymentsRepository, CAELUS_CONFIG],
    },
    { provide: APP_GUARD, useClass: ThrottlerGuard },
    { provide: APP_GUARD, useClass: AuthGuard },
    { provide: APP_FILTER, useClass: DomainExceptionFilter },
  ],
})
export class AppModule {}
