/**
 * Admin actions: POST only, with the access token AND a CSRF token (double
 * submit: GET /api/session returns a random value bound to this server run;
 * every POST must echo it in `x-csrf-token`), and a same-origin check on the
 * Origin header, so another site open in the operator's browser cannot act.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type StatusServer, sameToken, sendJson } from './server.js';

export interface DeadLetterRetryResult {
  retried: number;
  queued: number;
  filtered: number;
  failed: number;
  skipped: number;
}

/** What the admin actions act on; the composition root (app.ts) implements it. */
export interface AdminTarget {
  pauseSink(name: string): boolean;
  resumeSink(name: string): boolean;
  /** Sends every dead letter through its route again, as configured now. */
  retryDeadLetters(): Promise<DeadLetterRetryResult>;
}

export class AdminApi {
  private readonly csrf = randomBytes(24).toString('base64url');
  private retrying = false;

  constructor(
    private readonly server: StatusServer,
    private readonly target: AdminTarget,
  ) {}

  start(): void {
    this.server.routes.set('/api/session', (_req, res) => sendJson(res, 200, { csrfToken: this.csrf }));
    this.server.prefixRoutes.set('/api/sinks/', (req, res, url) => this.sinkAction(req, res, url));
    this.server.routes.set('/api/deadletters/retry', (req, res) => this.retry(req, res));
  }

  private refused(req: IncomingMessage): string | null {
    if (req.method !== 'POST') return 'use POST';
    const origin = req.headers.origin;
    if (origin && origin !== `http://${req.headers.host}` && origin !== `https://${req.headers.host}`) {
      return 'cross-site request refused';
    }
    const header = req.headers['x-csrf-token'];
    if (typeof header !== 'string' || !sameToken(header, this.csrf)) return 'missing or wrong x-csrf-token';
    return null;
  }

  private async retry(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const problem = this.refused(req);
    if (problem) return sendJson(res, problem === 'use POST' ? 405 : 403, { error: problem });
    if (this.retrying) return sendJson(res, 409, { error: 'a retry is already running' });
    this.retrying = true;
    try {
      sendJson(res, 200, await this.target.retryDeadLetters());
    } catch (err) {
      sendJson(res, 500, { error: `retry failed: ${(err as Error).message}` });
    } finally {
      this.retrying = false;
    }
  }

  private sinkAction(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const problem = this.refused(req);
    if (problem) {
      sendJson(res, problem === 'use POST' ? 405 : 403, { error: problem });
      return;
    }
    const m = /^\/api\/sinks\/([^/]+)\/(pause|resume)$/.exec(url.pathname);
    if (!m) {
      sendJson(res, 404, { error: 'not found' });
      return;
    }
    const name = decodeURIComponent(m[1]!);
    const ok = m[2] === 'pause' ? this.target.pauseSink(name) : this.target.resumeSink(name);
    sendJson(res, ok ? 200 : 404, ok ? { sink: name, action: m[2] } : { error: `no sink named ${name}` });
  }
}
