/**
 * Structured JSON logs. Redaction is by key name as a backstop; the first line of defence is that
 * code never puts secrets into log objects.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export const REDACTED_PATHS = [
  'password',
  '*.password',
  'privateKey',
  '*.privateKey',
  'ticket',
  '*.ticket',
  'token',
  '*.token',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["sec-websocket-protocol"]',
  'res.headers["set-cookie"]',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options = { level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' }, base: { service: 'porthole' } };
  return destination ? pino(options, destination) : pino(options);
}
