/**
 * Paths redacted from every log line of the API and the worker (pino `redact`): credentials and
 * anything that may carry user values.
 */
export const LOG_REDACT_PATHS: readonly string[] = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.apiToken',
  '*.values',
  '*.password',
  '*.adminToken',
  '*.encryptionKey',
];

export const LOG_REDACT_CENSOR = '[redacted]';
