/**
 * The status HTTP server: /healthz and /readyz (open), /api/status and
 * /metrics (token unless status.auth is "none"). The page itself lives in
 * status/page/ and is served from "/".
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import { TidegateError } from '../errors.js';
import type { Logger } from '../observe/log.js';
import type { StatusSnapshot } from './snapshot.js';

export interface StatusSource {
  snapshot(): Promise<StatusSnapshot>;
  ready(): { ready: boolean; checks: Record<string, boolean> };
  registry: Registry;
}

export interface StatusOptions {
  host: string;
  port: number;
  auth: 'token' | 'none';
  token: string | undefined;
  dataDir: string;
}

export type Route = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void> | void;

/** Reads the configured token, or the one stored beside the data, or makes one (mode 0600). */
export function resolveToken(opts: StatusOptions, log: Logger): string | null {
  if (opts.auth === 'none') return null;
  if (opts.token) return opts.token;
  const file = join(opts.dataDir, 'status-token');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(opts.dataDir, { recursive: true });
  const token = randomBytes(24).toString('base64url');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  log.info({ file }, 'generated a status page token (set status.token to choose your own)');
  return token;
}

export function tokenFrom(req: IncomingMessage): string | null {
  const h = req.headers.authorization;
  if (h?.startsWith('Bearer ')) return h.slice(7).trim();
  const cookie = req.headers.cookie ?? '';
  for (const part of cookie.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === 'tidegate_token') return decodeURIComponent(v.join('='));
  }
  return null;
}

export function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(text);
}

export class StatusServer {
  private server: Server | null = null;
  private token: string | null = null;
  /** extra routes (the page, SSE, admin actions) registered by other status modules */
  readonly routes = new Map<string, Route>();
  readonly openRoutes = new Set<string>(['/healthz', '/readyz']);
  /** routes matched by path prefix (always behind the token) */
  readonly prefixRoutes = new Map<string, Route>();

  constructor(
    private readonly opts: StatusOptions,
    private readonly source: StatusSource,
    private readonly log: Logger,
  ) {}

  get port(): number {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a.port : 0;
  }

  get accessToken(): string | null {
    return this.token;
  }

  authorized(req: IncomingMessage): boolean {
    if (this.token === null) return true;
    const t = tokenFrom(req);
    return t !== null && sameToken(t, this.token);
  }

  checkToken(candidate: string): boolean {
    return this.token === null || sameToken(candidate, this.token);
  }

  async start(): Promise<void> {
    if (this.server) return;
    this.token = resolveToken(this.opts, this.log);
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: Error) => {
        this.log.error({ err: err.message, url: req.url }, 'status request failed');
        if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
        else res.end();
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          err.code === 'EADDRINUSE'
            ? new TidegateError(
                `port ${this.opts.port} on ${this.opts.host} is already in use: change status.port in the config file`,
                'PORT_IN_USE',
                'status',
                false,
              )
            : err,
        ),
      );
      server.listen(this.opts.port, this.opts.host, () => resolve());
    });
    this.log.info({ port: this.port, auth: this.opts.auth }, 'status page listening');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    if (path === '/healthz') return sendJson(res, 200, { ok: true });
    if (path === '/readyz') {
      const r = this.source.ready();
      return sendJson(res, r.ready ? 200 : 503, r);
    }
    const route = this.routes.get(path);
    if (!this.openRoutes.has(path) && !this.authorized(req)) {
      if (route && req.method === 'GET' && (req.headers.accept ?? '').includes('text/html')) {
        // the page handles its own login form
        return route(req, res, url);
      }
      res.writeHead(401, {
        'content-type': 'application/json',
        'www-authenticate': 'Bearer realm="tidegate"',
      });
      res.end(JSON.stringify({ error: 'a token is needed: Authorization: Bearer <token>' }));
      return;
    }
    if (route) return route(req, res, url);
    for (const [prefix, r] of this.prefixRoutes) if (path.startsWith(prefix)) return r(req, res, url);
    if (path === '/api/status' && req.method === 'GET')
      return sendJson(res, 200, await this.source.snapshot());
    if (path === '/metrics' && req.method === 'GET') {
      const text = await this.source.registry.metrics();
      res.writeHead(200, { 'content-type': this.source.registry.contentType });
      res.end(text);
      return;
    }
    sendJson(res, 404, { error: 'not found' });
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
