import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { ThrottlerException } from '@nestjs/throttler';
import { DomainError, DomainErrorCode, FieldProblem } from '../../../../libs/domain/src';
import { QueryFailedError } from 'typeorm';

export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  fields?: FieldProblem[];
  requestId?: string;
}

/** Typed over the whole code union: a domain code without an HTTP status does not compile. */
export const DOMAIN_ERROR_STATUS: Readonly<Record<DomainErrorCode, number>> = {
  InvalidInput: HttpStatus.BAD_REQUEST,
  InvalidValues: HttpStatus.BAD_REQUEST,
  Unauthenticated: HttpStatus.UNAUTHORIZED,
  Forbidden: HttpStatus.FORBIDDEN,
  NotFound: HttpStatus.NOT_FOUND,
  Conflict: HttpStatus.CONFLICT,
  Unavailable: HttpStatus.SERVICE_UNAVAILABLE,
};

export function statusFor(code: DomainErrorCode): number {
  return DOMAIN_ERROR_STATUS[code];
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Errors from body-parser carry a status and a type; they are the client's fault. */
function bodyParserError(err: unknown): { status: number; message: string } | null {
  const e = err as { type?: string; status?: number; statusCode?: number };
  if (!e || typeof e.type !== 'string') return null;
  const status = e.status ?? e.statusCode ?? 400;
  if (e.type === 'entity.too.large') return { status: 413, message: 'the request body is too large' };
  if (e.type === 'entity.parse.failed') return { status: 400, message: 'the request body is not valid JSON' };
  if (e.type === 'entity.too.deep' || e.type === 'entity.forbidden.key') return { status: 400, message: (err as Error).message };
  if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported') return { status: 415, message: 'the request body encoding is not supported' };
  if (status >= 400 && status < 500) return { status, message: 'the request body could not be read' };
  return null;
}

/**
 * What the log keeps of an unexpected error. A failed query carries its parameters (user values,
 * sealed secrets) and Postgres quotes offending input in its message and detail, so of those only
 * the SQLSTATE, the table, the constraint and the stack are kept.
 */
export function loggableError(err: unknown): Record<string, unknown> {
  if (err instanceof QueryFailedError) {
    const d = (err as QueryFailedError & { driverError?: Record<string, unknown> }).driverError ?? {};
    return { type: 'QueryFailedError', code: d.code, table: d.table, constraint: d.constraint, routine: d.routine, stack: err.stack?.split('\n').slice(1).join('\n') };
  }
  if (err instanceof Error) return { type: err.name, message: err.message, stack: err.stack };
  return { type: typeof err };
}

/** SQLSTATEs of a database that is overloaded or going away: too_many_connections, admin/crash shutdown, cannot_connect_now, and connection exceptions (class 08). */
const UNAVAILABLE_SQLSTATE = /^(53300|57P01|57P02|57P03|08...)$/;
/** What node-postgres and its pool throw when no connection could be had in time or one broke. */
const UNAVAILABLE_MESSAGE = /timeout exceeded when trying to connect|Connection terminated|connect ECONNREFUSED|Client has encountered a connection error/;

/**
 * The database was too busy to hand out a connection in time, or could not be reached: the same
 * request may succeed a moment later (a transaction that lost its connection is rolled back, and
 * the supervisor wakes a deployment whose committed change was not handed on). A 503 with
 * Retry-After says so; a 500 would say the request is broken.
 */
export function databaseUnavailable(err: unknown): boolean {
  const e = (err instanceof QueryFailedError ? (err as QueryFailedError & { driverError?: unknown }).driverError : err) as { code?: unknown; message?: unknown } | undefined;
  if (!e || typeof e !== 'object') return false;
  if (typeof e.code === 'string' && UNAVAILABLE_SQLSTATE.test(e.code)) return true;
  return typeof e.message === 'string' && UNAVAILABLE_MESSAGE.test(e.message);
}

/** Seconds a client is asked to wait before retrying a 503. */
export const RETRY_AFTER_SECONDS = 2;

/**
 * What was thrown, sorted into the kinds the filter answers differently. Anything that is none of
 * the known kinds is `unexpected`: a 500 that says nothing about the cause.
 */
type Thrown =
  | { kind: 'domain'; error: DomainError }
  | { kind: 'body'; status: number; message: string }
  | { kind: 'throttled' }
  | { kind: 'health'; error: HttpException }
  | { kind: 'http'; error: HttpException }
  | { kind: 'database-unavailable'; error: unknown }
  | { kind: 'unexpected'; error: unknown };

function classify(exception: unknown): Thrown {
  if (exception instanceof DomainError) return { kind: 'domain', error: exception };
  // Nest wraps body-parser errors in an HttpException whose message may quote the body (a secret, say).
  const body = bodyParserError(exception instanceof HttpException ? exception.cause : exception);
  if (body) return { kind: 'body', ...body };
  if (exception instanceof ThrottlerException) return { kind: 'throttled' };
  if (exception instanceof HttpException) {
    const r = exception.getResponse();
    // Terminus health results: the per-dependency details are the point of the response.
    return typeof r === 'object' && 'details' in r ? { kind: 'health', error: exception } : { kind: 'http', error: exception };
  }
  if (databaseUnavailable(exception)) return { kind: 'database-unavailable', error: exception };
  return { kind: 'unexpected', error: exception };
}

function httpMessage(exception: HttpException): string {
  const r = exception.getResponse();
  if (typeof r === 'string') return r;
  return typeof (r as { message?: unknown }).message === 'string' ? (r as { message: string }).message : exception.message;
}

/** The part of Express's response the filter uses. */
interface ErrorResponse {
  status(code: number): { json(body: unknown): void };
  setHeader?(name: string, value: string): void;
}

@Catch()
export class DomainExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Http');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const res = ctx.getResponse<ErrorResponse>();
    const req = ctx.getRequest<{ id?: string | number } | undefined>();
    const requestId: string | undefined = req?.id !== undefined ? String(req.id) : undefined;
    const thrown = classify(exception);
    if (thrown.kind === 'health') {
      res.status(thrown.error.getStatus()).json(thrown.error.getResponse());
      return;
    }
    const body = this.bodyFor(thrown, requestId);
    if (thrown.kind === 'domain' && body.statusCode === 401) res.setHeader?.('WWW-Authenticate', 'Bearer');
    if (thrown.kind === 'database-unavailable') res.setHeader?.('Retry-After', String(RETRY_AFTER_SECONDS));
    if (requestId) body.requestId = requestId;
    res.status(body.statusCode).json(body);
  }

  private bodyFor(thrown: Exclude<Thrown, { kind: 'health' }>, requestId: string | undefined): ErrorBody {
    switch (thrown.kind) {
      case 'domain': {
        const status = statusFor(thrown.error.code);
        return { statusCode: status, error: REASONS[status], message: thrown.error.message, ...(thrown.error.fields.length ? { fields: thrown.error.fields } : {}) };
      }
      case 'body':
        return { statusCode: thrown.status, error: REASONS[thrown.status] ?? 'Bad Request', message: thrown.message, fields: [{ field: 'body', message: thrown.message }] };
      case 'throttled':
        return { statusCode: 429, error: REASONS[429], message: 'too many requests; slow down' };
      case 'http': {
        const status = thrown.error.getStatus();
        return { statusCode: status, error: REASONS[status] ?? 'Error', message: httpMessage(thrown.error) };
      }
      case 'database-unavailable':
        this.logger.warn({ err: loggableError(thrown.error), requestId }, 'database unavailable');
        return { statusCode: 503, error: REASONS[503], message: `the database is busy or unreachable; retry in ${RETRY_AFTER_SECONDS} s` };
      case 'unexpected':
        this.logger.error({ err: loggableError(thrown.error), requestId }, 'unhandled error');
        return { statusCode: 500, error: REASONS[500], message: 'internal error; quote the request id when reporting it' };
      default:
        return unreachable(thrown);
    }
  }
}

function unreachable(value: never): never {
  throw new Error(`unhandled kind of error: ${JSON.stringify(value)}`);
}
