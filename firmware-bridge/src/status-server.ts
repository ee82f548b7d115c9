/**
 * A small read-only HTTP endpoint: GET /status (JSON, the BridgeStatus
 * document), GET /metrics (Prometheus text), GET /healthz. It binds
 * 127.0.0.1 by default: the gateway on the same box (or Prometheus) reads it.
 */
import { createServer, type Server } from 'node:http';
import { type BridgeStatus, prometheusText } from './status.js';

export class StatusServer {
  private server: Server | null = null;

  constructor(
    private readonly host: string,
    private readonly portWanted: number,
    private readonly status: () => BridgeStatus,
  ) {}

  get port(): number {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a.port : 0;
  }

  async start(): Promise<void> {
    if (this.server) return;
    const server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      if (req.method !== 'GET') {
        res.writeHead(405, { allow: 'GET' }).end();
        return;
      }
      if (path === '/healthz') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      } else if (path === '/status') {
        res
          .writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' })
          .end(JSON.stringify(this.status()));
      } else if (path === '/metrics') {
        res
          .writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' })
          .end(prometheusText(this.status()));
      } else {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      }
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          err.code === 'EADDRINUSE'
            ? new Error(`port ${this.portWanted} on ${this.host} is already in use: change status.port`)
            : err,
        ),
      );
      server.listen(this.portWanted, this.host, () => resolve());
    });
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
