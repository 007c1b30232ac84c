/**
 * Every domain error code. The HTTP filter maps them with a Record over this union, so a code
 * added here without an HTTP status does not compile.
 */
export const DOMAIN_ERROR_CODES = ['InvalidInput', 'InvalidValues', 'Unauthenticated', 'Forbidden', 'NotFound', 'Conflict', 'Unavailable'] as const;
export type DomainErrorCode = (typeof DOMAIN_ERROR_CODES)[number];

export interface FieldProblem {
  /** JSON path or field name, e.g. "email" or "/user/title". */
  field: string;
  message: string;
}

export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly fields: FieldProblem[] = [],
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const invalidInput = (message: string, fields: FieldProblem[] = []) => new DomainError('InvalidInput', message, fields);
export const invalidValues = (message: string, fields: FieldProblem[] = []) => new DomainError('InvalidValues', message, fields);
export const notFound = (what: string, id: string) => new DomainError('NotFound', `${what} ${id} was not found`);
export const conflict = (message: string, fields: FieldProblem[] = []) => new DomainError('Conflict', message, fields);
export const forbidden = (message = 'You are not allowed to do this') => new DomainError('Forbidden', message);
export const unauthenticated = (message = 'A valid bearer token is required') => new DomainError('Unauthenticated', message);
