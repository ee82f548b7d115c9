import { type Logger, pino } from 'pino';

export type { Logger };

/** Structured JSON logs on stdout (journald keeps them on a Pi; no log files on the SD card). */
export function createLogger(level: string, gatewayId: string): Logger {
  return pino({ level, base: { gatewayId }, timestamp: pino.stdTimeFunctions.isoTime });
}
