import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import request from 'supertest';
import { serveConsole } from './console-static';

@Controller('users')
class UsersStub {
  @Get()
  list() {
    return { route: 'users' };
  }
}

@Module({ controllers: [UsersStub] })
class StubModule {}

describe(serveConsole.name, () => {
  let dir: string;
  let app: NestExpressApplication;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'console-static-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><script type="module" src="/assets/index-abc123.js"></script>');
    writeFileSync(join(dir, 'assets', 'index-abc123.js'), 'console.log(1)');
    app = await NestFactory.create<NestExpressApplication>(StubModule, { logger: false });
    expect(serveConsole(app, dir)).toBe(true);
    await app.init();
  });

  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves index.html at / and never lets it be cached stale', async () => {
    const res = await request(app.getHttpServer()).get('/').expect(200);
    expect(res.text).toContain('/assets/index-abc123.js');
    expect(res.headers['cache-control']).toBe('no-cache');
  });

  it('caches hashed assets for a year', async () => {
    const res = await request(app.getHttpServer()).get('/assets/index-abc123.js').expect(200);
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  });

  it('leaves the REST routes and unknown paths to the API', async () => {
    expect((await request(app.getHttpServer()).get('/users').expect(200)).body).toEqual({ route: 'users' });
    await request(app.getHttpServer()).get('/users/nope').expect(404);
    await request(app.getHttpServer()).get('/assets/missing.js').expect(404);
  });

  it('serves nothing when the console is not built', async () => {
    const bare = await NestFactory.create<NestExpressApplication>(StubModule, { logger: false });
    expect(serveConsole(bare, join(dir, 'not-built'))).toBe(false);
    await bare.init();
    await request(bare.getHttpServer()).get('/').expect(404);
    await bare.close();
  });
});
