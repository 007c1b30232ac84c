import { QueryFailedError } from 'typeorm';

/** The name of the unique constraint or index a write violated, if that is what failed. */
export function uniqueViolation(err: unknown): string | null {
  if (err instanceof QueryFailedError) {
    const driver = (err as QueryFailedError & { driverError?: { code?: string; constraint?: string } }).driverError;
    if (driver?.code === '23505') return driver.constraint ?? 'unique';
  }
  return null;
}

/** True when the database is unreachable or the connection dropped (callers may retry). */
export function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: string })?.code ?? (err as { driverError?: { code?: string } })?.driverError?.code;
  return ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', '57P01', '57P03', '08006', '08001', '08003'].includes(code ?? '');
}
