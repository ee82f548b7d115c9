/**
 * Errors are data: a code, the stage that raised it, and whether trying again
 * can help. Retry policy reads `retriable`, never the message text.
 */
export type Stage = 'config' | 'broker' | 'ingest' | 'transform' | 'queue' | 'forward' | 'sink' | 'status';

export class TidegateError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly stage: Stage,
    readonly retriable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TidegateError';
  }
}

/** An upstream refused or failed a batch. */
export class SinkError extends TidegateError {
  constructor(
    message: string,
    code: string,
    retriable: boolean,
    options?: { cause?: unknown; retryAfterMs?: number },
  ) {
    super(message, code, 'sink', retriable, options);
    this.name = 'SinkError';
    this.retryAfterMs = options?.retryAfterMs;
  }
  readonly retryAfterMs: number | undefined;
}

export function isRetriable(err: unknown): boolean {
  return err instanceof TidegateError ? err.retriable : true;
}

export function errorCode(err: unknown): string {
  if (err instanceof TidegateError) return err.code;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'UNKNOWN';
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
