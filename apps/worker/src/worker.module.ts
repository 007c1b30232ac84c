import { Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { CAELUS_CONFIG, CaelusConfig } from '../../../libs/config/src';
import { CoreModule } from '../../../libs/core/src';
import { LOG_REDACT_CENSOR, LOG_REDACT_PATHS } from '../../../libs/observability/src';
import { workerProviders } from './worker.providers';
import { WorkerService } from './worker.service';

@Module({
  imports: [
    CoreModule,
    LoggerModule.forRootAsync({
      inject: [CAELUS_CONFIG],
      useFactory: (cfg: CaelusConfig) => ({ pinoHttp: { level: cfg.logLevel, redact: { paths: [...LOG_REDACT_PATHS], censor: LOG_REDACT_CENSOR } } }),
    }),
  ],
  providers: [...workerProviders, WorkerService],
})
export class WorkerModule {}
