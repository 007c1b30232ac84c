import { Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { loadConfig } from '../../../libs/config/src';
import { CoreModule } from '../../../libs/core/src';
import { createMetricsRegistry, WorkerMetrics } from '../../../libs/observability/src';
import { WorkerService } from './worker.service';

@Module({
  imports: [
    CoreModule,
    LoggerModule.forRootAsync({
      useFactory: () => ({ pinoHttp: { level: loadConfig().logLevel, redact: { paths: ['*.values', '*.password', '*.apiToken'], censor: '[redacted]' } } }),
    }),
  ],
  providers: [WorkerService, { provide: WorkerMetrics, useFactory: () => new WorkerMetrics(createMetricsRegistry()) }],
})
export class WorkerModule {}
