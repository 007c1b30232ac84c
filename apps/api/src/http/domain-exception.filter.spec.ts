import { QueryFailedError } from 'typeorm';
import { BadRequestException, HttpException, NotFoundException, ServiceUnavailableException } from '@nestjs/common';
import { ThrottlerException } from '@nestjs/throttler';
import { DOMAIN_ERROR_CODES, DomainError, DomainErrorCode } from '../../../../libs/domain/src';
import { DomainExceptionFilter, statusFor } from './domain-exception.filter';

function host(req: Record<string, unknown> = { id: 'req-1' }) {
  const res = {
    statusCode: 0,
    body: undefined as unknown,
    headers: {} as Record<string, string>,
    status(c: number) {
      this.statusCode = c;
      return this;
    },
    json(b: unknown) {
      this.body = b;
      return this;
    },
    setHeader(k: string, v: string) {
      this.headers[k] = v;
    },
  };
  return { res, host: { switchToHttp: () => ({ getResponse: () => res, getRequest: () => req }) } as never };
}

/** Every domain code's answer; typed over the union, so a new code needs a row here too. */
const EXPECTED: Record<DomainErrorCode, [status: number, error: string]> = {
  InvalidInput: [400, 'Bad Request'],
  InvalidValues: [400, 'Bad Request'],
  Unauthenticated: [401, 'Unauthorized'],
  Forbidden: [403, 'Forbidden'],
  NotFound: [404, 'Not Found'],
  Conflict: [409, 'Conflict'],
  Unavailable: [503, 'Service Unavailable'],
};

describe(DomainExceptionFilter.name, () => {
  const sut = new DomainExceptionFilter();

  it.each(DOMAIN_ERROR_CODES.map((code) => [code, ...EXPECTED[code]] as const))('answers %s with %i %s, its message and fields', (code, status, error) => {
    const { res, host: h } = host();
    sut.catch(new DomainError(code, `${code} happened`, [{ field: 'f', message: 'is wrong' }]), h);
    expect(res.statusCode).toBe(status);
    expect(res.body).toEqual({ statusCode: status, error, message: `${code} happened`, fields: [{ field: 'f', message: 'is wrong' }], requestId: 'req-1' });
    expect(res.headers).toEqual(status === 401 ? { 'WWW-Authenticate': 'Bearer' } : {});
  });

  it('leaves fields out of the body when the domain error has none', () => {
    const { res, host: h } = host();
    sut.catch(new DomainError('NotFound', 'deployment d1 was not found'), h);
    expect(res.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'deployment d1 was not found', requestId: 'req-1' });
  });

  it('maps every domain code', () => {
    expect(['InvalidInput', 'InvalidValues', 'Unauthenticated', 'Forbidden', 'NotFound', 'Conflict', 'Unavailable'].map((c) => statusFor(c as never))).toEqual([400, 400, 401, 403, 404, 409, 503]);
  });

  it('keeps the failing fields and the request id', () => {
    const { res, host: h } = host();
    sut.catch(new DomainError('InvalidInput', 'bad', [{ field: 'name', message: 'is wrong' }]), h);
    expect(res.statusCode).toBe(400);
    expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message: 'bad', fields: [{ field: 'name', message: 'is wrong' }], requestId: 'req-1' });
  });

  it('turns body-parser errors into 413 and 400, not 500', () => {
    const a = host();
    sut.catch(Object.assign(new Error('too large'), { type: 'entity.too.large', status: 413 }), a.host);
    expect(a.res.statusCode).toBe(413);
    const b = host();
    sut.catch(Object.assign(new Error('bad json'), { type: 'entity.parse.failed', status: 400 }), b.host);
    expect(b.res.statusCode).toBe(400);
  });

  it('unwraps body-parser errors that Nest turned into HttpExceptions, without echoing the body', () => {
    const cause = Object.assign(new SyntaxError('Unexpected token \'h\', "{"pw": hunter2}" is not valid JSON'), { type: 'entity.parse.failed', status: 400 });
    const { res, host: h } = host();
    sut.catch(new BadRequestException(cause.message, { cause }), h);
    expect(res.statusCode).toBe(400);
    expect(res.body).toMatchObject({ message: 'the request body is not valid JSON', fields: [{ field: 'body', message: 'the request body is not valid JSON' }] });
    expect(JSON.stringify(res.body)).not.toContain('hunter2');

    const tooLarge = host();
    sut.catch(new HttpException('request entity too large', 413, { cause: Object.assign(new Error('request entity too large'), { type: 'entity.too.large', status: 413 }) }), tooLarge.host);
    expect(tooLarge.res).toMatchObject({ statusCode: 413, body: { message: 'the request body is too large' } });
  });

  it('hides the cause of unknown errors behind a 500 with the request id', () => {
    const { res, host: h } = host();
    jest.spyOn((sut as unknown as { logger: { error: () => void } }).logger, 'error').mockImplementation(() => undefined);
    sut.catch(new Error('db password is hunter2'), h);
    expect(res.statusCode).toBe(500);
    expect(JSON.stringify(res.body)).not.toContain('hunter2');
  });

  it.each([
    ['a thrown string', 'hunter2'],
    ['a plain object', { message: 'hunter2', status: 400 }],
    ['a TypeError', new TypeError("Cannot read properties of undefined (reading 'hunter2')")],
  ])('answers %s with the same 500 body, naming nothing of it', (_, thrown) => {
    const { res, host: h } = host();
    jest.spyOn((sut as unknown as { logger: { error: () => void } }).logger, 'error').mockImplementation(() => undefined);
    sut.catch(thrown, h);
    expect(res).toMatchObject({ statusCode: 500, body: { statusCode: 500, error: 'Internal Server Error', message: 'internal error; quote the request id when reporting it', requestId: 'req-1' } });
    expect(JSON.stringify(res.body)).not.toContain('hunter2');
  });

  it('answers the throttler with 429, framework HTTP errors with their status, and health results as they are', () => {
    const throttled = host();
    sut.catch(new ThrottlerException(), throttled.host);
    expect(throttled.res).toMatchObject({ statusCode: 429, body: { statusCode: 429, error: 'Too Many Requests', message: 'too many requests; slow down' } });
    const notFound = host();
    sut.catch(new NotFoundException('Cannot GET /nope'), notFound.host);
    expect(notFound.res).toMatchObject({ statusCode: 404, body: { statusCode: 404, error: 'Not Found', message: 'Cannot GET /nope', requestId: 'req-1' } });
    const health = host();
    const result = { status: 'error', info: {}, error: { database: { status: 'down' } }, details: { database: { status: 'down' } } };
    sut.catch(new ServiceUnavailableException(result), health.host);
    expect(health.res).toMatchObject({ statusCode: 503, body: result });
  });

  it.each([
    ['the pool had no connection in time', new Error('timeout exceeded when trying to connect')],
    ['a connection broke', new Error('Connection terminated unexpectedly')],
    ['Postgres is not listening', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })],
    ['too many connections', new QueryFailedError('SELECT 1', [], Object.assign(new Error('sorry, too many clients already'), { code: '53300' }))],
    ['Postgres shutting down', new QueryFailedError('SELECT 1', [], Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }))],
  ])('answers a database that is unavailable (%s) with 503 and Retry-After, not 500', (_, thrown) => {
    const { res, host: h } = host();
    const warned: unknown[] = [];
    jest.spyOn((sut as unknown as { logger: { warn: (o: unknown) => void } }).logger, 'warn').mockImplementation((o) => void warned.push(o));
    sut.catch(thrown, h);
    expect(res).toMatchObject({ statusCode: 503, body: { statusCode: 503, error: 'Service Unavailable', message: 'the database is busy or unreachable; retry in 2 s', requestId: 'req-1' } });
    expect(res.headers).toEqual({ 'Retry-After': '2' });
    expect(warned).toHaveLength(1);
  });

  it('still answers other failed queries with 500', () => {
    const { res, host: h } = host();
    jest.spyOn((sut as unknown as { logger: { error: () => void } }).logger, 'error').mockImplementation(() => undefined);
    sut.catch(new QueryFailedError('SELECT 1', [], Object.assign(new Error('relation "x" does not exist'), { code: '42P01' })), h);
    expect(res.statusCode).toBe(500);
    expect(res.headers).toEqual({});
  });

  it('logs a failed query without its parameters or the values Postgres quotes', () => {
    const { host: h } = host();
    const logged: unknown[] = [];
    jest.spyOn((sut as unknown as { logger: { error: (o: unknown) => void } }).logger, 'error').mockImplementation((o) => void logged.push(o));
    const driverError = Object.assign(new Error('invalid input syntax for type json: "hunter2"'), { code: '22P02', table: 'deployments', detail: 'Token "hunter2" is invalid.' });
    sut.catch(new QueryFailedError('INSERT INTO deployments VALUES ($1)', ['{"password":"hunter2"}'], driverError), h);
    expect(JSON.stringify(logged)).not.toContain('hunter2');
    expect(logged[0]).toMatchObject({ err: { type: 'QueryFailedError', code: '22P02', table: 'deployments' } });
  });
});
