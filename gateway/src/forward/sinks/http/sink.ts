/**
 * The HTTP sink: one request per batch. 2xx acknowledges the batch; 429 and
 * 5xx are retried (honouring Retry-After); any other status means the
 * endpoint will never take this batch as it is, so it is dead-lettered with
 * the status and the start of the response body as the reason.
 */
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { SinkError } from '../../../errors.js';
import { batchContentType, encodeBatch } from '../../encode.js';
import type { Sink, SinkFactory } from '../../sink.js';
import type { HttpSinkConfig } from './config.js';

const gzipAsync = promisify(gzip);

/** Retry-After is either seconds or an HTTP date (RFC 9110 section 10.2.3). */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export class HttpSink implements Sink {
  readonly type = 'http';
  private lastStatus: number | null = null;

  constructor(private readonly config: HttpSinkConfig) {}

  async start(): Promise<void> {}

  async send(records: Parameters<Sink['send']>[0], ctx: Parameters<Sink['send']>[1]) {
    let body = encodeBatch(this.config.format, ctx.gatewayId, records);
    const headers: Record<string, string> = {
      'content-type': batchContentType[this.config.format],
      'x-tidegate-gateway': ctx.gatewayId,
      'x-tidegate-records': String(records.length),
      ...this.config.headers,
    };
    if (this.config.gzip) {
      body = await gzipAsync(body);
      headers['content-encoding'] = 'gzip';
    }
    if (this.config.bearerToken) headers.authorization = `Bearer ${this.config.bearerToken}`;
    let res: Response;
    try {
      res = await fetch(this.config.url, { method: this.config.method, headers, body, signal: ctx.signal });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const code = cause?.code ?? (err as Error).name;
      throw new SinkError(
        `cannot reach ${this.config.url}: ${cause?.message ?? (err as Error).message}`,
        code,
        true,
        {
          cause: err,
        },
      );
    }
    this.lastStatus = res.status;
    if (res.ok) {
      await res.body?.cancel();
      return undefined;
    }
    const text = (await res.text().catch(() => '')).slice(0, 200);
    const detail = `HTTP ${res.status} from ${this.config.url}${text ? `: ${text}` : ''}`;
    if (res.status === 429 || res.status >= 500) {
      throw new SinkError(detail, `HTTP_${res.status}`, true, {
        retryAfterMs: parseRetryAfter(res.headers.get('retry-after')),
      });
    }
    throw new SinkError(detail, `HTTP_${res.status}`, false);
  }

  async stop(): Promise<void> {}

  describe(): Record<string, unknown> {
    return { url: this.config.url, lastStatus: this.lastStatus };
  }
}

export const createHttpSink: SinkFactory<HttpSinkConfig> = (_name, config) => new HttpSink(config);
