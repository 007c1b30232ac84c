import { NestFactory } from '@nestjs/core';
import { NestExpressApplication, NestExpressBodyParserOptionsFor } from '@nestjs/platform-express';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import { CAELUS_CONFIG, CaelusConfig } from '../../../libs/config/src';
import { AppModule } from './app.module';
import { serveConsole } from './console/console-static';
import { verifyJsonBody } from './http/json-depth';
import { SafeInputPipe } from './http/safe-input.pipe';
import { createValidationPipe } from './http/validation';

export function buildOpenApi(app: NestExpressApplication): OpenAPIObject {
  const config = new DocumentBuilder().setTitle('Caelus API').setDescription('Per-user instances of web applications on a shared Kubernetes cluster').setVersion('0.1.0').addBearerAuth().build();
  return SwaggerModule.createDocument(app, config);
}

/** Builds the configured HTTP app without listening, for main and for end-to-end tests. */
export async function createApiApp(options: { logger?: boolean } = {}): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule, { bufferLogs: true, bodyParser: false, abortOnError: false });
  // Without a logger of its own, Nest would flush the buffered start-up logs to the console.
  if (options.logger !== false) app.useLogger(app.get(Logger));
  else app.useLogger(['error']);
  const cfg = app.get<CaelusConfig>(CAELUS_CONFIG);
  // Nest reserves `verify` only for `rawBody: true`, which this app does not use.
  app.useBodyParser('json', { limit: cfg.bodyLimitBytes, strict: true, verify: verifyJsonBody() } as NestExpressBodyParserOptionsFor<'json'>);
  app.use(helmet());
  app.disable('x-powered-by');
  serveConsole(app);
  // X-Forwarded-For is believed only from the configured proxies; otherwise req.ip is the TCP peer.
  app.set('trust proxy', cfg.trustedProxies.length > 0 ? [...cfg.trustedProxies] : false);
  app.useGlobalPipes(new SafeInputPipe(), createValidationPipe());
  app.enableShutdownHooks();
  SwaggerModule.setup('docs', app, () => buildOpenApi(app));
  return app;
}
