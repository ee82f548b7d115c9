/**
 * A fleet: many SimDevices in this process (or this worker's share of them,
 * every `workers`-th device), connected with a ramp-up, publishing for the
 * configured duration or count, then given `ackWait` to collect their acks.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fillTopic } from './contract.js';
import { SimDevice } from './device.js';
import type { Ledger } from './ledger.js';
import { MqttLink } from './link.js';
import { deviceId, type FleetConfig, meanIntervalMs } from './options.js';
import { loadProfile, rng } from './profiles.js';
import { FleetStats, type StatsData } from './stats.js';

export interface FleetSlice {
  workers: number;
  worker: number;
}

export interface FleetResult {
  ledger: Ledger;
  stats: StatsData;
  /** ms from the first connect to the last generated message */
  publishMs: number;
  /** the simulator's own event-loop delay p99 (ms): when high, ack latencies include the simulator's lag */
  simLoopP99Ms: number;
}

const DEFAULT_DURATION_MS = 10_000;

export class Fleet {
  readonly stats = new FleetStats();
  private readonly devices: SimDevice[] = [];
  private halted = false;
  private wake: (() => void) | null = null;
  private readonly startTimers: NodeJS.Timeout[] = [];

  constructor(
    private readonly config: FleetConfig,
    private readonly slice: FleetSlice = { workers: 1, worker: 0 },
  ) {}

  async run(): Promise<FleetResult> {
    const c = this.config;
    const profile = loadProfile(c.profile);
    const meanMs = meanIntervalMs(c);
    const startedAt = Date.now();
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    const durationMs = c.duration ?? (c.count ? Number.POSITIVE_INFINITY : DEFAULT_DURATION_MS);
    for (let i = this.slice.worker; i < c.devices; i += this.slice.workers) {
      const r = rng(c.seed * 1_000_003 + i);
      const id = deviceId(c, i);
      const link = new MqttLink({
        url: c.url,
        clientId: id,
        topic: fillTopic(c.topic, id, profile.name, i),
        username: c.username?.replaceAll('{device}', id),
        password: c.password,
        reconnectPeriod: c.reconnectPeriod,
      });
      const d = new SimDevice(id, c, profile.create(r), r, this.stats, link);
      this.devices.push(d);
      const offset = c.devices > 1 ? (i / c.devices) * c.rampUp : 0;
      this.startTimers.push(setTimeout(() => d.start(meanMs, Date.now() + durationMs), offset));
    }
    const endOfGeneration = c.duration !== undefined || !c.count ? startedAt + c.rampUp + durationMs : 0;
    await this.until(() => {
      if (this.halted) return true;
      if (endOfGeneration && Date.now() >= endOfGeneration) return true;
      return c.count !== undefined && this.devices.every((d) => d.ledger.generated >= c.count!);
    });
    const publishMs = Date.now() - startedAt;
    for (const d of this.devices) d.halt();
    const ackDeadline = Date.now() + c.ackWait;
    await this.until(
      () =>
        this.devices.every((d) => d.inflightCount === 0 && d.backlogCount === 0) || Date.now() >= ackDeadline,
    );
    await Promise.all(this.devices.map((d) => d.close()));
    loop.disable();
    const devices = new Map(this.devices.map((d) => [d.id, d.ledger]));
    return {
      ledger: { run: c.run, qos: c.qos, startedAt, endedAt: Date.now(), devices },
      stats: this.stats.toJSON(),
      publishMs,
      simLoopP99Ms: loop.percentile(99) / 1e6,
    };
  }

  private async until(done: () => boolean): Promise<void> {
    while (!done()) {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 100);
      });
    }
  }

  /** Ends generation now; acks are still collected for ackWait. */
  halt(): void {
    this.halted = true;
    for (const t of this.startTimers) clearTimeout(t);
    this.wake?.();
  }

  /** Cuts the connections of this share of the devices (a fraction, picked evenly). */
  dropConnections(fraction: number): number {
    const every = fraction >= 1 ? 1 : Math.max(1, Math.round(1 / fraction));
    let n = 0;
    this.devices.forEach((d, i) => {
      if (i % every === 0) {
        d.drop();
        n++;
      }
    });
    return n;
  }
}
