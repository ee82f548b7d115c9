/**
 * A mergeable latency histogram with log-spaced buckets (2 % wide), so a
 * million samples cost a few hundred numbers and worker results can be added.
 */
const GROWTH = 1.02;
const LOG_GROWTH = Math.log(GROWTH);
/** values below this (ms) share bucket 0 */
const FLOOR = 0.01;

export class Histogram {
  readonly counts = new Map<number, number>();
  count = 0;
  max = 0;
  sum = 0;

  record(ms: number): void {
    const v = Math.max(ms, 0);
    const i = v <= FLOOR ? 0 : Math.ceil(Math.log(v / FLOOR) / LOG_GROWTH);
    this.counts.set(i, (this.counts.get(i) ?? 0) + 1);
    this.count++;
    this.sum += v;
    if (v > this.max) this.max = v;
  }

  /** the upper edge of the bucket that holds the p-th percentile (at most 2 % above the true value) */
  percentile(p: number): number {
    if (this.count === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (const i of [...this.counts.keys()].sort((a, b) => a - b)) {
      seen += this.counts.get(i)!;
      if (seen >= rank) return Math.min(FLOOR * GROWTH ** i, this.max);
    }
    return this.max;
  }

  mean(): number {
    return this.count === 0 ? Number.NaN : this.sum / this.count;
  }

  merge(other: HistogramData): void {
    for (const [i, n] of other.counts) this.counts.set(i, (this.counts.get(i) ?? 0) + n);
    this.count += other.count;
    this.sum += other.sum;
    this.max = Math.max(this.max, other.max);
  }

  toJSON(): HistogramData {
    return { counts: [...this.counts.entries()], count: this.count, sum: this.sum, max: this.max };
  }

  static from(d: HistogramData): Histogram {
    const h = new Histogram();
    h.merge(d);
    return h;
  }
}

/** The plain form that crosses a worker boundary. */
export interface HistogramData {
  counts: Array<[number, number]>;
  count: number;
  sum: number;
  max: number;
}

export interface Percentiles {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export function percentiles(h: Histogram): Percentiles {
  return { count: h.count, p50: h.percentile(50), p90: h.percentile(90), p99: h.percentile(99), max: h.max };
}
