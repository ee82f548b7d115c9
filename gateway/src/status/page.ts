/**
 * The operator's page: static files, a login form that sets the token cookie,
 * and /api/events (Server-Sent Events). One snapshot per second is computed
 * once and sent to every open page, so ten open pages cost what one does.
 * A new page gets the 15-minute history once, then one point per second.
 * /api/devices serves the device table a page at a time (searched and paged
 * here, so a page with 1,000 devices receives 50 rows, not 1,000).
 */
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DevicePage, DevicePageQuery } from '../observe/devices.js';
import { History } from './history.js';
import { type StatusServer, sendJson } from './server.js';
import type { StatusSnapshot } from './snapshot.js';

export interface PageSource {
  snapshot(): Promise<StatusSnapshot>;
  devices: { page(query: DevicePageQuery): DevicePage };
}
/**
 * The page's files. npm run build copies gateway/src/status/page next to this
 * module (that copy ships); in a source checkout the files are read where they
 * are edited, because plain tsc does not copy them and a stale copy would be served.
 */
const HERE = dirname(fileURLToPath(import.meta.url));
const SOURCE_DIR = join(HERE, '..', '..', '..', '..', 'gateway', 'src', 'status', 'page');
const PAGE_DIR = existsSync(join(SOURCE_DIR, 'index.html')) ? SOURCE_DIR : join(HERE, 'page');
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
    '/assets/bridge.js': { type: 'text/javascript; charset=utf-8', body: file(join(PAGE_DIR, 'bridge.js')) },
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
  private readonly history = new History();

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
      res.write(`retry: 2000\nevent: history\ndata: ${JSON.stringify(this.history.view())}\n\n`);
      this.clients.add(res);
      req.on('close', () => this.clients.delete(res));
    });
    this.server.routes.set('/api/devices', (_req, res, url) => {
      const p = url.searchParams;
      const num = (k: string) => {
        const v = Number(p.get(k) ?? Number.NaN);
        return Number.isInteger(v) && v >= 0 ? v : undefined;
      };
      sendJson(
        res,
        200,
        this.source.devices.page({
          q: p.get('q') ?? undefined,
          offset: num('offset'),
          limit: num('limit'),
          connectedOnly: p.get('connected') === '1',
        }),
      );
    });
    this.timer = setInterval(() => {
      // a failed snapshot skips one point; the next second tries again
      this.tick().catch(() => undefined);
    }, 1000);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    const status = await this.source.snapshot();
    this.history.add(status);
    if (this.clients.size === 0) return;
    const view = this.history.view();
    const i = view.t.length - 1;
    const point =
      i < 0
        ? null
        : {
            t: view.t[i],
            in: view.in[i],
            out: view.out[i],
            backlog: Object.fromEntries(Object.entries(view.backlog).map(([k, v]) => [k, v[i]])),
          };
    const data = `data: ${JSON.stringify({ status, rates: this.history.rates, point })}\n\n`;
    for (const c of this.clients) c.write(data);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    for (const c of this.clients) c.end();
    this.clients.clear();
  }
}
