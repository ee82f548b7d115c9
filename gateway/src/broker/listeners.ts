/**
 * The broker's network front: plain TCP, TLS (node:tls) and MQTT over
 * WebSocket (ws v8, optionally wss). Each hands the broker a byte stream plus
 * what the transport proved about the peer (a verified certificate's CN).
 * We build these ourselves instead of using aedes-server-factory, which is unmaintained.
 * TLS material is re-read on reload() (SIGHUP) without dropping connections.
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  createServer as createTlsServer,
  TLSSocket,
  type TlsOptions,
  type Server as TlsServer,
} from 'node:tls';
import type { WebSocketServer } from 'ws';
import { TidegateError } from '../errors.js';
import type { MqttConfig } from './config.js';

export type Transport = 'tcp' | 'tls' | 'ws' | 'wss';

export interface Connection {
  stream: Duplex;
  transport: Transport;
  remote: string;
  /** CN of a client certificate that verified against mqtt.tls.ca (and is not revoked) */
  certIdentity: string | null;
  /** a certificate was presented but did not verify (unknown CA, expired, revoked) */
  certRejected: string | null;
  /** the underlying socket, for pausing, noDelay and closing */
  socket: Socket;
}

export class PortInUseError extends TidegateError {
  constructor(host: string, port: number, setting: string) {
    super(
      `port ${port} on ${host} is already in use (another MQTT broker such as Mosquitto?): change ${setting} in the config file`,
      'PORT_IN_USE',
      'broker',
      false,
    );
  }
}

interface Listener {
  transport: Transport;
  server: Server | TlsServer | HttpServer;
  host: string;
  port: number;
  setting: string;
  wss?: WebSocketServer;
}

function tlsOptions(tls: NonNullable<MqttConfig['tls']>): TlsOptions {
  const read = (f: string) => readFileSync(f);
  return {
    cert: read(tls.cert),
    key: read(tls.key),
    ca: tls.ca ? read(tls.ca) : undefined,
    crl: tls.crl ? read(tls.crl) : undefined,
    requestCert: tls.clientCertificates !== 'off',
    // 'optional' lets a client without a certificate in (user/password); one with a bad
    // certificate is refused after the handshake (see peer()).
    rejectUnauthorized: tls.clientCertificates === 'required',
    minVersion: 'TLSv1.2',
  };
}

function peer(socket: Socket): Pick<Connection, 'certIdentity' | 'certRejected'> {
  if (!(socket instanceof TLSSocket)) return { certIdentity: null, certRejected: null };
  const cert = socket.getPeerCertificate();
  const presented = cert && Object.keys(cert).length > 0;
  if (!presented) return { certIdentity: null, certRejected: null };
  if (!socket.authorized) return { certIdentity: null, certRejected: String(socket.authorizationError) };
  const cn = cert.subject?.CN;
  return {
    certIdentity: typeof cn === 'string' && cn ? cn : null,
    certRejected: cn ? null : 'certificate has no CN',
  };
}

export class Listeners {
  private readonly listeners: Listener[] = [];

  constructor(
    private readonly cfg: MqttConfig,
    private readonly onConnection: (c: Connection) => void,
    private readonly onTlsError: (err: Error, transport: Transport) => void,
  ) {}

  get ports(): Partial<Record<Transport, number>> {
    const out: Partial<Record<Transport, number>> = {};
    for (const l of this.listeners) {
      const a = l.server.address();
      if (a && typeof a === 'object') out[l.transport] = a.port;
    }
    return out;
  }

  get listening(): boolean {
    return this.listeners.length > 0 && this.listeners.every((l) => l.server.listening);
  }

  async start(): Promise<void> {
    const { cfg } = this;
    if (cfg.tcp) {
      const server = createTcpServer({ noDelay: true }, (s) => this.accept(s, s, 'tcp'));
      this.listeners.push({ transport: 'tcp', server, host: cfg.host, port: cfg.port, setting: 'mqtt.port' });
    }
    if (cfg.tls) {
      const server = createTlsServer(tlsOptions(cfg.tls), (s) => this.accept(s, s, 'tls'));
      server.on('tlsClientError', (err) => this.onTlsError(err, 'tls'));
      const host = cfg.tls.host ?? cfg.host;
      this.listeners.push({ transport: 'tls', server, host, port: cfg.tls.port, setting: 'mqtt.tls.port' });
    }
    if (cfg.websocket) {
      const ws = cfg.websocket;
      if (ws.tls && !cfg.tls)
        throw new TidegateError(
          'mqtt.websocket.tls needs mqtt.tls (certificate and key)',
          'CONFIG',
          'broker',
          false,
        );
      const transport: Transport = ws.tls ? 'wss' : 'ws';
      const server = ws.tls && cfg.tls ? createHttpsServer(tlsOptions(cfg.tls)) : createHttpServer();
      if (ws.tls) server.on('tlsClientError', (err: Error) => this.onTlsError(err, 'wss'));
      // loaded only when a WebSocket listener is configured (memory on a Pi)
      const { createWebSocketStream, WebSocketServer } = await import('ws');
      // maxPayload: one WebSocket message never needs to exceed one MQTT packet (plus its header)
      const wss = new WebSocketServer({ server, path: ws.path, maxPayload: Number(cfg.maxPacketSize) + 8 });
      wss.on('connection', (sock, req) => {
        const stream = createWebSocketStream(sock);
        stream.on('error', () => stream.destroy());
        this.accept(req.socket, stream, transport);
      });
      wss.on('error', () => {}); // server errors surface through the http server's listen
      const host = ws.host ?? cfg.host;
      this.listeners.push({ transport, server, host, port: ws.port, setting: 'mqtt.websocket.port', wss });
    }
    for (const l of this.listeners) {
      await new Promise<void>((resolve, reject) => {
        l.server.once('error', (err: NodeJS.ErrnoException) =>
          reject(err.code === 'EADDRINUSE' ? new PortInUseError(l.host, l.port, l.setting) : err),
        );
        l.server.listen(l.port, l.host, () => resolve());
      });
    }
  }

  private accept(socket: Socket, stream: Duplex, transport: Transport): void {
    this.onConnection({ stream, transport, remote: socket.remoteAddress ?? '', socket, ...peer(socket) });
  }

  /** Re-read certificate, key, CA and CRL (SIGHUP). Existing connections keep their session. */
  reload(): void {
    const tls = this.cfg.tls;
    if (!tls) return;
    const opts = tlsOptions(tls);
    for (const l of this.listeners) {
      if (l.transport === 'tls' || l.transport === 'wss') (l.server as TlsServer).setSecureContext(opts);
    }
  }

  async stop(): Promise<void> {
    const all = this.listeners.splice(0);
    await Promise.all(
      all.map(
        (l) =>
          new Promise<void>((resolve) => {
            l.wss?.close();
            if (!l.server.listening) return resolve();
            l.server.close(() => resolve());
            if ('closeAllConnections' in l.server) l.server.closeAllConnections();
          }),
      ),
    );
  }
}
