import 'reflect-metadata';
import { CAELUS_CONFIG, CaelusConfig, ConfigError, describeConfig } from '../../../libs/config/src';
import { createApiApp } from './bootstrap';

async function main(): Promise<void> {
  const app = await createApiApp();
  const cfg = app.get<CaelusConfig>(CAELUS_CONFIG);
  await app.listen(cfg.port, '0.0.0.0');
  app.getHttpServer();
  console.log(JSON.stringify({ level: 'info', msg: 'caelus api listening', port: cfg.port, config: describeConfig(cfg) }));
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
