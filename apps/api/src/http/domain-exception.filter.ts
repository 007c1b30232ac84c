import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { ThrottlerException } from '@nestjs/throttler';
import { DomainError, DomainErrorCode, FieldProblem } from '../../../../libs/domain/src';
import { QueryFailedError } from 'typeorm';
import { InvalidCursorError } from '../../../../libs/persistence/src';

export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  fields?: FieldProblem[];
  requestId?: string;
}

/** Exhaustive: a new domain code without a mapping does not compile. */
export function statusFor(code: DomainErrorCode): number {
  switch (code) {
    case 'InvalidInput':
    case 'InvalidValues':
      return HttpStatus.BAD_REQUEST;
    case 'Unauthenticated':
      return HttpStatus.UNAUTHORIZED;
    case 'Forbidden':
      return HttpStatus.FORBIDDEN;
    case 'NotFound':
      return HttpStatus.NOT_FOUND;
    case 'Conflict':
      return HttpStatus.CONFLICT;
    case 'Unavailable':
      return HttpStatus.SERVICE_UNAVAILABLE;
  }
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

@Catch()
export class DomainExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Http');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const res = ctx.getResponse();
    const req = ctx.getRequest();
    const requestId: string | undefined = req?.id !== undefined ? String(req.id) : undefined;
    let body: ErrorBody;

    if (exception instanceof DomainError) {
      const status = statusFor(exception.code);
      body = { statusCode: status, error: REASONS[status], message: exception.message, ...(exception.fields.length ? { fields: exception.fields } : {}) };
      if (status === 401) res.setHeader?.('WWW-Authenticate', 'Bearer');
    } else if (exception instanceof HttpException && bodyParserError(exception.cause)) {
      // Nest wraps body-parser errors in an HttpException whose message may quote the body (a secret, say).
      const parsed = bodyParserError(exception.cause)!;
      body = { statusCode: parsed.status, error: REASONS[parsed.status] ?? 'Bad Request', message: parsed.message, fields: [{ field: 'body', message: parsed.message }] };
    } else if (exception instanceof InvalidCursorError) {
      body = { statusCode: 400, error: REASONS[400], message: 'cursor is not valid', fields: [{ field: 'cursor', message: 'must be a cursor returned by a previous page' }] };
    } else if (exception instanceof ThrottlerException) {
      body = { statusCode: 429, error: REASONS[429], message: 'too many requests; slow down' };
    } else if (exception instanceof HttpException && typeof exception.getResponse() === 'object' && 'details' in (exception.getResponse() as object)) {
      // Terminus health results: the per-dependency details are the point of the response.
      res.status(exception.getStatus()).json(exception.getResponse());
      return;
    } else if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const r = exception.getResponse();
      const message = typeof r === 'string' ? r : typeof (r as { message?: unknown }).message === 'string' ? (r as { message: string }).message : exception.message;
      body = { statusCode: status, error: REASONS[status] ?? 'Error', message };
    } else {
      const parsed = bodyParserError(exception);
      if (parsed) {
        body = { statusCode: parsed.status, error: REASONS[parsed.status] ?? 'Bad Request', message: parsed.message, fields: [{ field: 'body', message: parsed.message }] };
      } else {
        this.logger.error({ err: loggableError(exception), requestId }, 'unhandled error');
        body = { statusCode: 500, error: REASONS[500], message: 'internal error; quote the request id when reporting it' };
      }
    }
    if (requestId) body.requestId = requestId;
    res.status(body.statusCode).json(body);
  }
}
