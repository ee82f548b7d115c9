/**
 * The MQTT broker: aedes 1.2 (MQTT 3.1.1) behind our own listeners.
 * aedes writes PUBACK before it persists or forwards (lib/handlers/publish.js:
 * `write(client, new PubAck(packet))` then `broker.publish`), and PUBREC after
 * `broker.publish`; both come after `authorizePublish`. So the durable append
 * happens in authorizePublish, after admission (identity, ACL, limits): no
 * acknowledgement leaves before the commit, and a refused PUBLISH never reaches
 * a queue.
 */
import { Aedes, type AedesOptions, type Client, type PublishPacket } from 'aedes';
import type { IngestMessage } from '../ingest/route.js';
import type { Logger } from '../observe/log.js';
import type { Metrics } from '../observe/metrics.js';
import { Admission } from './admission.js';
import type { MqttConfig } from './config.js';
import { deliverAtGrantedQos } from './delivery.js';
import type { Limits } from './limits.js';
import { type Connection, Listeners, type Transport } from './listeners.js';
import { PacketGuard } from './packet-guard.js';
import { SqlitePersistence } from './persistence.js';

export { PortInUseError } from './listeners.js';

export interface BrokerOptions {
  mqtt: MqttConfig;
  /** resolved sizes and durations of the mqtt config */
  maxPacketSize: number;
  heartbeatIntervalMs: number;
  connectTimeoutMs: number;
  limits: Limits;
  /** the SQLite file of the queue: sessions and retained messages go to its mqtt_* tables */
  dataFile: string;
  /** decides whether a PUBLISH may be acknowledged; resolves after it is durable */
  accept: (msg: IngestMessage) => Promise<{ accepted: true } | { accepted: false; reason: string }>;
  /** seam for tests and experiments; our hooks (auth, ACL, durable ingest) always win */
  aedes?: Partial<AedesOptions>;
}

/**
 * Protocol level of a CONNECT at the start of `buf`: undefined while more bytes are
 * needed, null when it is not a CONNECT with protocol name MQTT (aedes handles that).
 */
function connectLevel(buf: Buffer): number | null | undefined {
  if (buf.length === 0) return undefined;
  if (buf[0] !== 0x10) return null;
  let i = 1;
  while (i < buf.length && i < 5 && (buf[i]! & 0x80) !== 0) i++;
  if (i >= buf.length) return undefined;
  const v = i + 1; // first byte of the variable header
  if (buf.length < v + 7) return undefined;
  if (buf.readUInt16BE(v) !== 4 || buf.toString('latin1', v + 2, v + 6) !== 'MQTT') return null;
  return buf[v + 6]!;
}

interface ParserHolder {
  _parser: { parse(buf: Buffer): unknown };
}

export class Broker {
  aedes: Aedes | null = null;
  private listeners: Listeners | null = null;
  private persistence: SqlitePersistence | null = null;
  private readonly admission: Admission;
  private readonly connections = new Set<Connection>();
  private readonly onHangup = () => this.reload();

  constructor(
    private readonly opts: BrokerOptions,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {
    this.admission = new Admission(opts.mqtt, opts.limits, metrics, log);
  }

  /** Port of the plain TCP listener (0 when it is off); see ports for the others. */
  get port(): number {
    return this.listeners?.ports.tcp ?? 0;
  }

  get ports(): Partial<Record<Transport, number>> {
    return this.listeners?.ports ?? {};
  }

  get listening(): boolean {
    return this.listeners?.listening ?? false;
  }

  async start(): Promise<void> {
    if (this.aedes) return;
    this.admission.load();
    const a = this.admission;
    const persistence = new SqlitePersistence({
      file: this.opts.dataFile,
      maxQueuedPerClient: this.opts.mqtt.sessions.maxQueuedPerClient,
      onDropped: (client, n) => {
        this.metrics.sessionDropped.inc(n);
        this.log.warn({ client, dropped: n }, 'offline session queue full: dropped the oldest messages');
      },
      allowSubscription: (client, topic) => a.subscriptionAllowed(client, topic),
      dupOnResend: true,
    });
    this.persistence = persistence;
    const aedes = await Aedes.createBroker({
      heartbeatInterval: this.opts.heartbeatIntervalMs,
      connectTimeout: this.opts.connectTimeoutMs,
      maxClientsIdLength: 128,
      maxTopicLevels: this.opts.limits.maxTopicLevels,
      maxInflightInbound: this.opts.mqtt.limits.maxInflight,
      persistence,
      ...this.opts.aedes,
      preConnect: (client, packet, cb) => a.preConnect(client, packet, cb),
      authenticate: (client, user, password, cb) => a.authenticate(client, user, password, cb),
      authorizeSubscribe: (client, sub, cb) => a.authorizeSubscribe(client, sub, cb),
      authorizeForward: (client, packet) => a.authorizeForward(client, packet),
      authorizePublish: (client, packet, cb) => this.authorizePublish(client, packet, cb),
      published: (packet, _client, cb) => {
        persistence.settle(packet.payload);
        cb(null);
      },
    });
    this.aedes = aedes;
    aedes.on('client', () => this.metrics.clients.inc());
    aedes.on('clientDisconnect', (client) => {
      this.metrics.clients.dec();
      a.closed(client);
    });
    aedes.on('unsubscribe', (topics, client) => a.unsubscribed(client, topics));
    aedes.on('clientError', (client, err) => {
      this.metrics.errors.inc({ stage: 'broker', code: 'CLIENT_ERROR' });
      this.log.debug({ client: client?.id, err: err.message }, 'client error');
    });
    aedes.on('connectionError', (_client, err) => {
      this.metrics.errors.inc({ stage: 'broker', code: 'CONNECTION_ERROR' });
      this.log.debug({ err: err.message }, 'connection error');
    });

    const listeners = new Listeners(
      this.opts.mqtt,
      (c) => this.onConnection(c),
      (err, transport) => {
        // failed handshakes: no certificate when one is required, unknown CA, revoked, plain text on TLS
        a.refuseConnection('tls_handshake', { transport, detail: err.message });
      },
    );
    this.listeners = listeners;
    await listeners.start();
    if (this.opts.mqtt.tls || this.opts.mqtt.auth.passwordFile || this.opts.mqtt.acl.file) {
      process.on('SIGHUP', this.onHangup);
    }
    this.log.info({ host: this.opts.mqtt.host, ports: listeners.ports }, 'mqtt listening');
    const d = a.describe();
    if (d.anonymous) {
      this.log.warn(
        d,
        'ANONYMOUS ACCESS: any client may connect without credentials' +
          (typeof d.aclRules === 'number'
            ? ', within the ACL'
            : ' and publish and subscribe to every topic') +
          ' (set mqtt.auth.passwordFile or mqtt.tls.clientCertificates to require identities)',
      );
    } else this.log.info(d, 'mqtt identities required');
  }

  /** SIGHUP: re-read certificates, the password file and the ACL; on an error keep the old ones. */
  reload(): void {
    try {
      this.admission.load();
      this.listeners?.reload();
      this.log.info(this.admission.describe(), 'reloaded TLS material, credentials and ACL');
    } catch (err) {
      this.metrics.errors.inc({ stage: 'broker', code: 'RELOAD_FAILED' });
      this.log.error({ err: (err as Error).message }, 'reload failed; keeping the previous settings');
    }
  }

  private onConnection(conn: Connection): void {
    const { socket, stream } = conn;
    if (conn.certRejected) {
      this.admission.refuseConnection('bad_certificate', { remote: conn.remote, detail: conn.certRejected });
      stream.destroy();
      return;
    }
    if (this.connections.size >= this.opts.mqtt.maxClients || !this.aedes) {
      this.admission.refuseConnection('max_connections', {
        remote: conn.remote,
        limit: this.opts.mqtt.maxClients,
      });
      stream.destroy();
      socket.destroy();
      return;
    }
    // Nagle plus delayed ACK adds ~40 ms to PUBACK round trips
    socket.setNoDelay(true);
    this.connections.add(conn);
    stream.once('close', () => this.connections.delete(conn));
    socket.once('close', () => this.connections.delete(conn));
    const client = this.aedes.handle(stream, undefined as never) as Client;
    deliverAtGrantedQos(client as unknown as Parameters<typeof deliverAtGrantedQos>[0]);
    this.admission.attach(client, conn);
    this.guard(client as unknown as ParserHolder, conn);
  }

  /** Reads fixed headers before aedes buffers a packet, so an oversize one costs 5 bytes, not 10 MB. */
  private guard(client: ParserHolder, conn: Connection): void {
    const guard = new PacketGuard(this.opts.maxPacketSize);
    const parser = client._parser;
    const parse = parser.parse.bind(parser);
    let refused = false;
    let head: Buffer | null = Buffer.alloc(0);
    parser.parse = (chunk: Buffer) => {
      if (refused) return 0;
      let buf = chunk;
      if (head) {
        // hold the first bytes until the CONNECT's protocol level is known
        buf = Buffer.concat([head, chunk]);
        const level = connectLevel(buf);
        if (level === undefined) {
          head = buf;
          return 0;
        }
        head = null;
        if (level !== null && level !== 3 && level !== 4 && level !== 5) {
          // [MQTT-3.1.2-2]: CONNACK 1, then close. mqtt-packet throws on unknown levels, so
          // aedes would close without a CONNACK. (Level 5 reaches aedes, which answers 1 itself.)
          refused = true;
          this.admission.refuseConnection('protocol_level', { remote: conn.remote, level });
          conn.stream.end(Buffer.from([0x20, 0x02, 0x00, 0x01]));
          setTimeout(() => conn.socket.destroy(), 100).unref();
          return 0;
        }
      }
      const problem = guard.check(buf);
      if (problem === null) return parse(buf);
      refused = true;
      this.metrics.errors.inc({ stage: 'broker', code: problem.code });
      this.log.warn({ remote: conn.remote, problem: problem.message }, 'closing connection: bad packet');
      conn.stream.destroy();
      conn.socket.destroy();
      return 0;
    };
  }

  private authorizePublish(
    client: Client | null,
    packet: PublishPacket,
    cb: (err?: Error | null) => void,
  ): void {
    // [MQTT-3.3.1-3]: the DUP of an incoming PUBLISH is not passed on; aedes 1.2 copies it to
    // every subscriber. The flag only tells this hop's receiver about a retransmission.
    packet.dup = false;
    // $SYS and other broker-internal topics are not data
    if (packet.topic.startsWith('$')) {
      cb(client ? new Error('publishing to $ topics is not allowed') : null);
      return;
    }
    if (client) {
      const verdict = this.admission.checkPublish(client, packet);
      // [MQTT-3.3.5-2]: no way to tell a 3.1.1 client; aedes closes the connection
      if (!verdict.ok) {
        cb(new Error(`publish refused: ${verdict.detail}`));
        return;
      }
      if (verdict.delayMs > 0) {
        setTimeout(() => this.ingest(client, packet, cb), verdict.delayMs);
        return;
      }
    }
    this.ingest(client, packet, cb);
  }

  private ingest(client: Client | null, packet: PublishPacket, cb: (err?: Error | null) => void): void {
    const qos = packet.qos;
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    const msg: IngestMessage = {
      topic: packet.topic,
      payload,
      qos,
      retain: packet.retain,
      // a will left by a previous run is published with client null; it names its client
      clientId: client?.id ?? String((packet as { clientId?: string }).clientId ?? ''),
      receivedAt: Date.now(),
    };
    // QoS 1 only: aedes sends PUBREC after it has published, but PUBACK before (see persistence.journal)
    const journaled = qos === 1 && client ? this.persistence?.journal({ ...packet, payload }) : null;
    const done = this.opts.accept(msg).then(
      (r) => (r.accepted ? null : new Error(`publish refused: ${r.reason}`)),
      (err: Error) => err,
    );
    if (journaled) void done.then((err) => err && this.persistence?.settle(payload));
    if (qos === 0) {
      // nothing to acknowledge: deliver without waiting for the commit (order is kept by the queue)
      cb(null);
      return;
    }
    done.then((err) => cb(err));
  }

  /** Stop accepting, close client connections, close aedes and the session store. Safe to call twice. */
  async stop(): Promise<void> {
    const aedes = this.aedes;
    const listeners = this.listeners;
    this.aedes = null;
    this.listeners = null;
    process.off('SIGHUP', this.onHangup);
    const closed = listeners?.stop() ?? Promise.resolve();
    if (aedes) await new Promise<void>((resolve) => aedes.close(() => resolve()));
    for (const c of this.connections) {
      c.stream.destroy();
      c.socket.destroy();
    }
    await closed;
    await this.persistence?.destroy();
    this.persistence = null;
  }
}
