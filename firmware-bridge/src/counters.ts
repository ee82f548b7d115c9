/**
 * What the bridge counts, per port: frames in and out by type, NACKs by
 * reason in both directions, publishes, duplicates, commands. The decoder's own
 * counters (CRC errors, resyncs, ...) come from its FrameDecoder. The status
 * document (status.ts) and /metrics both read these same objects.
 */

export interface PortCounters {
  /** valid frames received, by type name (HELLO, DATA, ...) */
  framesIn: Record<string, number>;
  /** frames written to the device, by type name */
  framesOut: Record<string, number>;
  bytesOut: number;
  acksSent: number;
  /** NACKs sent to the device, by reason name (bad-crc, busy, ...) */
  nacksSent: Record<string, number>;
  acksReceived: number;
  /** NACKs the device sent for our COMMANDs, by reason name */
  nacksReceived: Record<string, number>;
  /** DATA frames the gateway acknowledged (PUBACK) */
  published: number;
  /** DATA retransmissions recognised by seq and ACKed again without publishing */
  duplicates: number;
  /** retransmissions that arrived while the original was still awaiting PUBACK (ignored) */
  inProgress: number;
  /** ACK/NACK/PONG frames for a seq that was not outstanding */
  stale: number;
  sessions: number;
  commandsSent: number;
  commandsAcked: number;
  commandsFailed: number;
  /** commands not sent to the device, by reason (no-session, no-cmd, oversize, bad-payload, queue-full) */
  commandsDropped: Record<string, number>;
}

export function emptyPortCounters(): PortCounters {
  return {
    framesIn: {},
    framesOut: {},
    bytesOut: 0,
    acksSent: 0,
    nacksSent: {},
    acksReceived: 0,
    nacksReceived: {},
    published: 0,
    duplicates: 0,
    inProgress: 0,
    stale: 0,
    sessions: 0,
    commandsSent: 0,
    commandsAcked: 0,
    commandsFailed: 0,
    commandsDropped: {},
  };
}

export function bump(map: Record<string, number>, key: string, by = 1): void {
  map[key] = (map[key] ?? 0) + by;
}

/** Adds `b` into `a`, field by field (numbers and string-keyed maps of numbers). */
export function addInto<T extends object>(a: T, b: T): T {
  const x = a as Record<string, number | Record<string, number>>;
  for (const [k, v] of Object.entries(b as Record<string, number | Record<string, number>>)) {
    if (typeof v === 'number') x[k] = ((x[k] as number | undefined) ?? 0) + v;
    else {
      if (x[k] === undefined) x[k] = {};
      const into = x[k] as Record<string, number>;
      for (const [kk, vv] of Object.entries(v)) bump(into, kk, vv);
    }
  }
  return a;
}

/**
 * ACK latency: from the DATA frame's last byte arriving to its ACK being
 * written, which is dominated by the gateway's commit and PUBACK. Keeps the
 * last `size` samples (a ring) for percentiles and a running count and sum.
 */
export class LatencyTracker {
  private readonly ring: Float64Array;
  private next = 0;
  private filled = 0;
  count = 0;
  sumMs = 0;

  constructor(size = 2048) {
    this.ring = new Float64Array(size);
  }

  add(ms: number): void {
    this.ring[this.next] = ms;
    this.next = (this.next + 1) % this.ring.length;
    this.filled = Math.min(this.filled + 1, this.ring.length);
    this.count++;
    this.sumMs += ms;
  }

  /** p in 0..1 over the recent samples; null when there are none. */
  percentile(p: number): number | null {
    if (this.filled === 0) return null;
    const sorted = Array.from(this.ring.subarray(0, this.filled)).sort((a, b) => a - b);
    const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
    return sorted[i]!;
  }

  summary(): {
    count: number;
    meanMs: number | null;
    p50Ms: number | null;
    p99Ms: number | null;
    maxMs: number | null;
  } {
    return {
      count: this.count,
      meanMs: this.count > 0 ? this.sumMs / this.count : null,
      p50Ms: this.percentile(0.5),
      p99Ms: this.percentile(0.99),
      maxMs: this.percentile(1),
    };
  }
}

/** Memory held for DATA frames awaiting PUBACK, over all devices (config buffer.*). */
export class PendingBudget {
  messages = 0;
  bytes = 0;
  /** DATA frames refused with NACK busy because the budget was used up */
  refused = 0;

  constructor(
    readonly maxMessages: number,
    readonly maxBytes: number,
  ) {}

  tryReserve(bytes: number): boolean {
    if (this.messages + 1 > this.maxMessages || this.bytes + bytes > this.maxBytes) {
      this.refused++;
      return false;
    }
    this.messages++;
    this.bytes += bytes;
    return true;
  }

  release(bytes: number): void {
    this.messages--;
    this.bytes -= bytes;
  }
}
