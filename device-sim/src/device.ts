/**
 * One simulated device: its own id and link (MQTT, or serial later), a profile that
 * makes its readings, a sequence number per message, and a ledger entry that
 * records which sequence numbers were acknowledged. Offline readings are
 * either buffered (and sent on reconnect, oldest first) or counted as skipped.
 */
import { encodePayload } from './contract.js';
import type { DeviceLedger } from './ledger.js';
import type { DeviceLink } from './link.js';
import type { FleetConfig } from './options.js';
import type { ProfileInstance, Rng } from './profiles.js';
import type { FleetStats } from './stats.js';

interface Pending {
  seq: number;
  payload: Buffer;
}

export class SimDevice {
  private timer: NodeJS.Timeout | null = null;
  private churnTimer: NodeJS.Timeout | null = null;
  private generating = false;
  private nextAt = 0;
  private online = false;
  private readonly backlog: Pending[] = [];
  private readonly inflight = new Set<number>();
  readonly ledger: DeviceLedger = { generated: 0, published: 0, acked: new Set() };

  constructor(
    readonly id: string,
    private readonly config: FleetConfig,
    private readonly profile: ProfileInstance,
    private readonly random: Rng,
    private readonly stats: FleetStats,
    private readonly link: DeviceLink,
  ) {}

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
    let first = true;
    this.link.open({
      up: () => {
        if (first && this.generating) onFirstConnect();
        first = false;
        if (!this.online) this.stats.connected++;
        this.online = true;
        this.stats.connects++;
        this.flushBacklog();
      },
      down: () => {
        if (this.online) {
          this.stats.connected--;
          this.stats.disconnects++;
        }
        this.online = false;
      },
      error: (kind) => this.stats.error(kind),
    });
  }

  private generate(): void {
    const seq = this.ledger.generated++;
    const payload = encodePayload(
      { run: this.config.run, dev: this.id, seq, ts: Date.now(), data: this.profile.next() },
      this.config.encoding,
      this.config.payloadSize,
    );
    if (this.link.connected && this.backlog.length === 0) this.publish({ seq, payload });
    else if (this.config.bufferOffline) {
      this.backlog.push({ seq, payload });
      if (this.backlog.length > this.config.bufferMax) {
        this.backlog.shift();
        this.stats.error('buffer_overflow');
      }
      if (this.link.connected) this.flushBacklog();
    } else this.stats.error('offline_skipped');
  }

  private requeue(m: Pending): void {
    const i = this.backlog.findIndex((b) => b.seq > m.seq);
    this.backlog.splice(i < 0 ? this.backlog.length : i, 0, m);
    this.stats.requeued++;
    if (this.link.connected) setImmediate(() => this.flushBacklog());
  }

  private flushBacklog(): void {
    while (this.backlog.length > 0 && this.link.connected) this.publish(this.backlog.shift()!);
  }

  private publish(m: Pending): void {
    const t0 = performance.now();
    const qos = this.config.qos;
    this.ledger.published++;
    this.stats.sent++;
    if (qos === 0) {
      this.link.send(m.payload, 0).catch(() => this.stats.error('publish_failed'));
      return;
    }
    this.inflight.add(m.seq);
    this.stats.inflight++;
    const done = (err: Error | null) => {
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
    };
    this.link.send(m.payload, qos).then(() => done(null), done);
  }

  private scheduleChurn(): void {
    const every = this.config.churn * (0.5 + this.random());
    this.churnTimer = setTimeout(() => {
      if (!this.generating) return;
      this.drop();
      this.scheduleChurn();
    }, every);
  }

  /** Loses the connection abruptly (no DISCONNECT), as a device losing its network would; the link reconnects. */
  drop(): void {
    this.link.drop();
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
    // not lost (never acknowledged), but the summary says how many were still open
    for (let i = 0; i < this.inflight.size; i++) this.stats.error('unacked_at_end');
    for (let i = 0; i < this.backlog.length; i++) this.stats.error('unsent_at_end');
    await this.link.close();
  }
}
