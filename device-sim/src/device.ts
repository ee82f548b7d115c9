/**
 * One simulated MQTT device: its own client id and connection, a profile that
 * makes its readings, a sequence number per message, and a ledger entry that
 * records which sequence numbers were acknowledged. Offline readings are
 * either buffered (and sent on reconnect, oldest first) or counted as skipped.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { encodePayload, fillTopic } from './contract.js';
import type { DeviceLedger } from './ledger.js';
import type { FleetConfig } from './options.js';
import type { ProfileInstance, Rng } from './profiles.js';
import type { FleetStats } from './stats.js';

interface Pending {
  seq: number;
  payload: Buffer;
}

export class SimDevice {
  private client: MqttClient | null = null;
  private timer: NodeJS.Timeout | null = null;
  private churnTimer: NodeJS.Timeout | null = null;
  private generating = false;
  private nextAt = 0;
  private online = false;
  private readonly backlog: Pending[] = [];
  private readonly inflight = new Set<number>();
  private readonly topic: string;
  readonly ledger: DeviceLedger = { generated: 0, published: 0, acked: new Set() };

  constructor(
    readonly id: string,
    readonly index: number,
    private readonly config: FleetConfig,
    private readonly profile: ProfileInstance,
    private readonly random: Rng,
    private readonly stats: FleetStats,
    readonly profileName: string,
  ) {
    this.topic = fillTopic(config.topic, id, profileName, index);
  }

  /**
   * Connects, and starts publishing once the first connection is up (a device
   * boots, joins the network, then reports); `untilMs` (epoch) or the
   * configured count ends generation.
   */
  start(meanMs: number, untilMs: number): void {
    this.generating = true;
    this.connect(() => {
      this.nextAt = Date.now() + this.random() * meanMs;
      const tick = () => {
        if (!this.generating) return;
        if (Date.now() >= untilMs || (this.config.count && this.ledger.generated >= this.config.count)) {
          this.generating = false;
          return;
        }
        this.generate();
        const d = this.profile.delay(meanMs);
        this.nextAt += d * (1 + (this.random() * 2 - 1) * this.config.jitter);
        this.timer = setTimeout(tick, Math.max(0, this.nextAt - Date.now()));
      };
      this.timer = setTimeout(tick, Math.max(0, this.nextAt - Date.now()));
      if (this.config.churn > 0) this.scheduleChurn();
    });
  }

  private connect(onFirstConnect: () => void): void {
    const c = this.config;
    const client = mqtt.connect(c.url, {
      clientId: this.id,
      username: c.username?.replaceAll('{device}', this.id),
      password: c.password,
      reconnectPeriod: c.reconnectPeriod,
      connectTimeout: 10_000,
      clean: true,
      // the device decides what happens offline (buffer or skip), not the client library
      queueQoSZero: false,
    });
    this.client = client;
    client.once('connect', () => {
      if (this.generating) onFirstConnect();
    });
    client.on('connect', () => {
      if (!this.online) this.stats.connected++;
      this.online = true;
      this.stats.connects++;
      this.flushBacklog();
    });
    client.on('close', () => {
      if (this.online) {
        this.stats.connected--;
        this.stats.disconnects++;
      }
      this.online = false;
    });
    client.on('error', (err) => this.stats.error(classify(err)));
  }

  private generate(): void {
    const seq = this.ledger.generated++;
    const payload = encodePayload(
      { run: this.config.run, dev: this.id, seq, ts: Date.now(), data: this.profile.next() },
      this.config.encoding,
      this.config.payloadSize,
    );
    if (this.client?.connected && this.backlog.length === 0) this.publish({ seq, payload });
    else if (this.config.bufferOffline) {
      this.backlog.push({ seq, payload });
      if (this.backlog.length > this.config.bufferMax) {
        this.backlog.shift();
        this.stats.error('buffer_overflow');
      }
      if (this.client?.connected) this.flushBacklog();
    } else this.stats.error('offline_skipped');
  }

  private requeue(m: Pending): void {
    const i = this.backlog.findIndex((b) => b.seq > m.seq);
    this.backlog.splice(i < 0 ? this.backlog.length : i, 0, m);
    this.stats.requeued++;
    if (this.client?.connected) setImmediate(() => this.flushBacklog());
  }

  private flushBacklog(): void {
    while (this.backlog.length > 0 && this.client?.connected) this.publish(this.backlog.shift()!);
  }

  private publish(m: Pending): void {
    const client = this.client!;
    const t0 = performance.now();
    const qos = this.config.qos;
    this.ledger.published++;
    this.stats.sent++;
    if (qos === 0) {
      client.publish(this.topic, m.payload, { qos: 0 });
      return;
    }
    this.inflight.add(m.seq);
    this.stats.inflight++;
    client.publish(this.topic, m.payload, { qos }, (err) => {
      this.inflight.delete(m.seq);
      this.stats.inflight--;
      if (err) {
        this.stats.error(`publish_failed (${err.message.toLowerCase().slice(0, 40)})`);
        // a buffering device keeps what was not acknowledged and sends it again, in order, when it can
        if (this.config.bufferOffline) this.requeue(m);
        return;
      }
      this.ledger.acked.add(m.seq);
      this.stats.acked++;
      this.stats.latency.record(performance.now() - t0);
    });
  }

  private scheduleChurn(): void {
    const every = this.config.churn * (0.5 + this.random());
    this.churnTimer = setTimeout(() => {
      if (!this.generating) return;
      this.drop();
      this.scheduleChurn();
    }, every);
  }

  /** Cuts the TCP connection without DISCONNECT, as a device losing its network would; mqtt.js reconnects. */
  drop(): void {
    this.client?.stream?.destroy();
  }

  get inflightCount(): number {
    return this.inflight.size;
  }

  get backlogCount(): number {
    return this.backlog.length;
  }

  /** Stops generating now (the backlog still drains while connected). */
  halt(): void {
    this.generating = false;
    if (this.timer) clearTimeout(this.timer);
    if (this.churnTimer) clearTimeout(this.churnTimer);
  }

  async close(): Promise<void> {
    this.halt();
    const client = this.client;
    this.client = null;
    if (!client) return;
    // not lost (never acknowledged), but the summary says how many were still open
    for (let i = 0; i < this.inflight.size; i++) this.stats.error('unacked_at_end');
    for (let i = 0; i < this.backlog.length; i++) this.stats.error('unsent_at_end');
    await new Promise<void>((resolve) => client.end(true, {}, () => resolve()));
  }
}

function classify(err: Error & { code?: string | number }): string {
  if (typeof err.code === 'string') return err.code.toLowerCase();
  if (/disconnect/i.test(err.message)) return 'disconnected';
  if (/refused|not authorized/i.test(err.message)) return 'connection_refused';
  return 'publish_failed';
}
