/**
 * The MQTT broker: aedes 1.2 (MQTT 3.1.1) behind our own listeners.
 * aedes writes PUBACK before it persists or forwards (lib/handlers/publish.js:
 * `write(client, new PubAck(packet))` then `broker.publish`), and PUBREC after
 * `broker.publish`; both come after `authorizePublish`. So the durable append
 * happens in authorizePublish: no acknowledgement leaves before the commit.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { Aedes, type AedesOptions, type Client, type PublishPacket } from 'aedes';
import { TidegateError } from '../errors.js';
import type { IngestMessage } from '../ingest/route.js';
import type { Logger } from '../observe/log.js';
import type { Metrics } from '../observe/metrics.js';
import { PacketGuard } from './packet-guard.js';

export interface BrokerOptions {
  host: string;
  port: number;
  maxPacketSize: number;
  maxClients: number;
  heartbeatInterval: number;
  /** decides whether a PUBLISH may be acknowledged; resolves after it is durable */
  accept: (msg: IngestMessage) => Promise<{ accepted: true } | { accepted: false; reason: string }>;
  /** seam for identity, ACL and persistence (issue "A broker you can put on a network") */
  aedes?: Partial<AedesOptions>;
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

interface ParserHolder {
  _parser: { parse(buf: Buffer): unknown };
}

export class Broker {
  aedes: Aedes | null = null;
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly opts: BrokerOptions,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  get port(): number {
    const addr = this.server?.address();
    return addr && typeof addr === 'object' ? addr.port : 0;
  }

  get listening(): boolean {
    return this.server?.listening ?? false;
  }

  async start(): Promise<void> {
    if (this.aedes) return;
    const aedes = await Aedes.createBroker({
      heartbeatInterval: this.opts.heartbeatInterval,
      maxClientsIdLength: 128,
      ...this.opts.aedes,
      authorizePublish: (client, packet, cb) => this.authorizePublish(client, packet, cb),
    });
    this.aedes = aedes;
    aedes.on('client', () => this.metrics.clients.inc());
    aedes.on('clientDisconnect', () => this.metrics.clients.dec());
    aedes.on('clientError', (client, err) => {
      this.metrics.errors.inc({ stage: 'broker', code: 'CLIENT_ERROR' });
      this.log.debug({ client: client?.id, err: err.message }, 'client error');
    });
    aedes.on('connectionError', (_client, err) => {
      this.metrics.errors.inc({ stage: 'broker', code: 'CONNECTION_ERROR' });
      this.log.debug({ err: err.message }, 'connection error');
    });

    const server = createServer({ noDelay: true }, (socket) => this.onConnection(socket));
    server.maxConnections = this.opts.maxClients;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        reject(
          err.code === 'EADDRINUSE' ? new PortInUseError(this.opts.host, this.opts.port, 'mqtt.port') : err,
        );
      });
      server.listen(this.opts.port, this.opts.host, () => resolve());
    });
    server.on('error', (err) => this.log.error({ err: err.message }, 'mqtt listener error'));
    this.log.info({ host: this.opts.host, port: this.port }, 'mqtt listening');
  }

  private onConnection(socket: Socket): void {
    // Nagle plus delayed ACK adds ~40 ms to PUBACK round trips; noDelay on the server sets it per socket.
    socket.setNoDelay(true);
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    const client = this.aedes!.handle(socket) as unknown as ParserHolder;
    const guard = new PacketGuard(this.opts.maxPacketSize);
    const parser = client._parser;
    const parse = parser.parse.bind(parser);
    let refused = false;
    parser.parse = (buf: Buffer) => {
      if (refused) return 0;
      const problem = guard.check(buf);
      if (problem === null) return parse(buf);
      refused = true;
      this.metrics.errors.inc({ stage: 'broker', code: problem.code });
      this.log.warn(
        { remote: socket.remoteAddress, problem: problem.message },
        'closing connection: bad packet',
      );
      socket.destroy();
      return 0;
    };
  }

  private authorizePublish(
    client: Client | null,
    packet: PublishPacket,
    cb: (err?: Error | null) => void,
  ): void {
    // $SYS and other broker-internal topics are not data
    if (packet.topic.startsWith('$')) {
      cb(client ? new Error('publishing to $ topics is not allowed') : null);
      return;
    }
    const qos = packet.qos;
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    const msg: IngestMessage = {
      topic: packet.topic,
      payload,
      qos,
      retain: packet.retain,
      clientId: client?.id ?? '',
      receivedAt: Date.now(),
    };
    const done = this.opts.accept(msg).then(
      (r) => (r.accepted ? null : new Error(`publish refused: ${r.reason}`)),
      (err: Error) => err,
    );
    if (qos === 0) {
      // nothing to acknowledge: deliver without waiting for the commit (order is kept by the queue)
      cb(null);
      return;
    }
    done.then((err) => cb(err));
  }

  /** Stop accepting, close client connections, close aedes. Safe to call twice. */
  async stop(): Promise<void> {
    const server = this.server;
    const aedes = this.aedes;
    this.server = null;
    this.aedes = null;
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    if (aedes) await new Promise<void>((resolve) => aedes.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }
}
