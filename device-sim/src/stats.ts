/** Counters of one fleet (or one worker's share of it): what the summary table is made of. */
import { Histogram, type HistogramData } from './histogram.js';

export class FleetStats {
  sent = 0;
  acked = 0;
  inflight = 0;
  connected = 0;
  connects = 0;
  disconnects = 0;
  /** failed publishes a buffering device put back to send again */
  requeued = 0;
  readonly errors = new Map<string, number>();
  readonly latency = new Histogram();

  error(kind: string): void {
    this.errors.set(kind, (this.errors.get(kind) ?? 0) + 1);
  }

  errorCount(): number {
    let n = 0;
    for (const v of this.errors.values()) n += v;
    return n;
  }

  toJSON(): StatsData {
    return {
      sent: this.sent,
      acked: this.acked,
      inflight: this.inflight,
      connected: this.connected,
      connects: this.connects,
      disconnects: this.disconnects,
      requeued: this.requeued,
      errors: Object.fromEntries(this.errors),
      latency: this.latency.toJSON(),
    };
  }

  add(d: StatsData): void {
    this.sent += d.sent;
    this.acked += d.acked;
    this.inflight += d.inflight;
    this.connected += d.connected;
    this.connects += d.connects;
    this.disconnects += d.disconnects;
    this.requeued += d.requeued;
    for (const [k, v] of Object.entries(d.errors)) this.errors.set(k, (this.errors.get(k) ?? 0) + v);
    this.latency.merge(d.latency);
  }
}

export interface StatsData {
  sent: number;
  acked: number;
  inflight: number;
  connected: number;
  connects: number;
  disconnects: number;
  requeued: number;
  errors: Record<string, number>;
  latency: HistogramData;
}
