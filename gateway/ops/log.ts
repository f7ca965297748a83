import pino, { type DestinationStream, type Logger } from 'pino';
import type { GatewaySettings } from '../config/settings.ts';

/**
 * Field paths the operational log must never print. Redaction is configured
 * on the logger so a careless `log.info({ headers })` cannot leak a secret.
 */
export const REDACT_PATHS = [
  'authorization',
  'cookie',
  'password',
  'token',
  'secret',
  '*.authorization',
  '*.cookie',
  '*.set-cookie',
  '*.password',
  '*.token',
  '*.secret',
  '*.bindPassword',
  '*.headers.authorization',
  '*.headers.cookie',
  '*.headers["set-cookie"]',
  '*.*.authorization',
  '*.*.password',
];

/** The operational log: JSON lines on stderr. Auth events are its `auth` child. */
export function createOperationalLog(
  level: GatewaySettings['log']['level'],
  dest?: DestinationStream,
): Logger {
  return pino(
    {
      level,
      base: { service: 'modgate' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    dest ?? pino.destination({ fd: 2, sync: false }),
  );
}
