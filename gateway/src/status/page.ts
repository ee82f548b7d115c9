/**
 * The operator's page: static files, a login form that sets the token cookie,
 * and /api/events (Server-Sent Events). One snapshot per second is computed
 * once and sent to every open page, so ten open pages cost what one does.
 * A 15-minute ring of in/out rates feeds the chart.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StatusServer } from './server.js';
import type { StatusSnapshot } from './snapshot.js';

export interface PageSource {
  snapshot(): Promise<StatusSnapshot>;
  /** ids of connected MQTT clients */
  deviceIds(): string[];
}

const HISTORY = 900;
/** the page's files (npm run build copies gateway/src/status/page next to this module) */
const PAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), 'page');
const require = createRequire(import.meta.url);

interface Asset {
  type: string;
  body: Buffer;
}

function loadAssets(): Record<string, Asset> {
  const uplot = dirname(require.resolve('uplot/dist/uPlot.iife.min.js'));
  const file = (p: string) => readFileSync(p);
  return {
    '/assets/app.js': { type: 'text/javascript; charset=utf-8', body: file(join(PAGE_DIR, 'app.js')) },
    '/assets/style.css': { type: 'text/css; charset=utf-8', body: file(join(PAGE_DIR, 'style.css')) },
    '/assets/uplot.js': {
      type: 'text/javascript; charset=utf-8',
      body: file(join(uplot, 'uPlot.iife.min.js')),
    },
    '/assets/uplot.css': { type: 'text/css; charset=utf-8', body: file(join(uplot, 'uPlot.min.css')) },
  };
}

function readBody(req: IncomingMessage, limit = 4096): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new Error('body too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export class StatusPage {
  private timer: NodeJS.Timeout | null = null;
  private readonly clients = new Set<ServerResponse>();
  private readonly history = { t: [] as number[], in: [] as number[], out: [] as number[] };
  private last: { at: number; received: number; sent: number } | null = null;
  private rates = { in: 0, out: 0 };

  constructor(
    private readonly server: StatusServer,
    private readonly source: PageSource,
  ) {}

  start(): void {
    const assets = loadAssets();
    const index = readFileSync(join(PAGE_DIR, 'index.html'));
    const login = readFileSync(join(PAGE_DIR, 'login.html'), 'utf8');
    for (const [path, a] of Object.entries(assets)) {
      this.server.openRoutes.add(path);
      this.server.routes.set(path, (_req, res) => {
        res.writeHead(200, { 'content-type': a.type, 'cache-control': 'max-age=300' });
        res.end(a.body);
      });
    }
    const sendLogin = (res: ServerResponse, status: number, error: string) => {
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(login.replace('__ERROR__', error));
    };
    this.server.routes.set('/', (req, res) => {
      if (!this.server.authorized(req)) return sendLogin(res, 200, '');
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        'content-security-policy': "default-src 'self'; style-src 'self' 'unsafe-inline'",
      });
      res.end(index);
    });
    this.server.openRoutes.add('/login');
    this.server.routes.set('/login', async (req, res) => {
      if (req.method !== 'POST') return sendLogin(res, 405, 'use the form');
      const token = new URLSearchParams(await readBody(req)).get('token') ?? '';
      if (!this.server.checkToken(token)) return sendLogin(res, 401, 'That token is not right.');
      // HttpOnly: scripts cannot read it; SameSite=Strict: other sites cannot send it
      res.writeHead(303, {
        location: '/',
        'set-cookie': `tidegate_token=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`,
      });
      res.end();
    });
    this.server.routes.set('/api/events', (req, res) => {
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-store',
        connection: 'keep-alive',
      });
      res.write('retry: 2000\n\n');
      this.clients.add(res);
      req.on('close', () => this.clients.delete(res));
    });
    this.timer = setInterval(() => void this.tick(), 1000);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    const status = await this.source.snapshot();
    const sent = status.sinks.reduce((a, s) => a + s.sent, 0);
    const now = status.now;
    if (this.last) {
      const dt = Math.max(0.001, (now - this.last.at) / 1000);
      this.rates = { in: (status.received - this.last.received) / dt, out: (sent - this.last.sent) / dt };
      this.history.t.push(Math.round(now / 1000));
      this.history.in.push(this.rates.in);
      this.history.out.push(this.rates.out);
      if (this.history.t.length > HISTORY)
        for (const k of ['t', 'in', 'out'] as const) this.history[k].shift();
    }
    this.last = { at: now, received: status.received, sent };
    if (this.clients.size === 0) return;
    const devices = this.source.deviceIds().sort();
    const data = `data: ${JSON.stringify({ status, rates: this.rates, history: this.history, devices })}\n\n`;
    for (const c of this.clients) c.write(data);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    for (const c of this.clients) c.end();
    this.clients.clear();
  }
}
