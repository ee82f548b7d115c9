/**
 * The charts' memory: one point per second for the last 15 minutes (in memory
 * only; a restart starts an empty chart). Rates are computed here from the
 * counters' differences, so the page never has to keep state across reloads.
 */
import type { StatusSnapshot } from './snapshot.js';

export const HISTORY_POINTS = 900;

export interface HistoryView {
  /** seconds since the epoch */
  t: number[];
  in: number[];
  out: number[];
  /** backlog messages per sink, aligned with t (null before the sink existed) */
  backlog: Record<string, Array<number | null>>;
}

export interface Rates {
  in: number;
  out: number;
}

export class History {
  private readonly t: number[] = [];
  private readonly rin: number[] = [];
  private readonly rout: number[] = [];
  private readonly backlog = new Map<string, Array<number | null>>();
  private last: { at: number; received: number; sent: number } | null = null;
  rates: Rates = { in: 0, out: 0 };

  constructor(private readonly points = HISTORY_POINTS) {}

  /** Adds one point from a snapshot (the first snapshot only sets the baseline of the rates). */
  add(status: StatusSnapshot): void {
    const sent = status.sinks.reduce((a, s) => a + s.sent, 0);
    const now = status.now;
    const last = this.last;
    this.last = { at: now, received: status.received, sent };
    if (!last) return;
    const dt = Math.max(0.001, (now - last.at) / 1000);
    // a counter never goes down; max(0) guards the rate against a clock step
    this.rates = {
      in: Math.max(0, (status.received - last.received) / dt),
      out: Math.max(0, (sent - last.sent) / dt),
    };
    const n = this.t.length;
    this.t.push(Math.round(now / 1000));
    this.rin.push(this.rates.in);
    this.rout.push(this.rates.out);
    for (const s of status.sinks) {
      if (!this.backlog.has(s.name)) this.backlog.set(s.name, new Array<number | null>(n).fill(null));
    }
    for (const [name, series] of this.backlog) {
      series.push(status.sinks.find((s) => s.name === name)?.backlogMessages ?? null);
    }
    if (this.t.length > this.points) {
      for (const a of [this.t, this.rin, this.rout, ...this.backlog.values()]) a.shift();
    }
  }

  get length(): number {
    return this.t.length;
  }

  view(): HistoryView {
    return { t: this.t, in: this.rin, out: this.rout, backlog: Object.fromEntries(this.backlog) };
  }
}
