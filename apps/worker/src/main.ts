import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { ConfigError } from '../../../libs/config/src';
import { removeStaleValuesFiles } from './stale-values-files';
import { WorkerModule } from './worker.module';

async function main(): Promise<void> {
  const staleValues = await removeStaleValuesFiles();
  const app = await NestFactory.createApplicationContext(WorkerModule, { bufferLogs: true, abortOnError: false });
  app.useLogger(app.get(Logger));
  staleValues.log();
  // SIGTERM/SIGINT: stop polling, let running activities finish within the grace time, exit.
  app.enableShutdownHooks();
  await app.init();
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
