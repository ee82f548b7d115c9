/** The end-of-run summary (table for people, JSON for machines) and the live progress line. */
import type { FleetResult } from './fleet.js';
import { Histogram, percentiles } from './histogram.js';
import { ackedCount } from './ledger.js';
import type { FleetStats } from './stats.js';

export interface RunSummary {
  run: string;
  devices: number;
  qos: number;
  seconds: number;
  sent: number;
  acked: number;
  throughput: number;
  ackLatencyMs: { p50: number; p90: number; p99: number; max: number };
  /** the simulator's event-loop delay p99: when high, ack latencies include the simulator's own lag */
  simLoopP99Ms: number;
  connects: number;
  disconnects: number;
  requeued: number;
  errors: Record<string, number>;
}

const r2 = (v: number) => (Number.isFinite(v) ? Math.round(v * 100) / 100 : null);

export function summarize(result: FleetResult): RunSummary {
  const p = percentiles(Histogram.from(result.stats.latency));
  const seconds = result.publishMs / 1000;
  const acked = ackedCount(result.ledger);
  return {
    run: result.ledger.run,
    devices: result.ledger.devices.size,
    qos: result.ledger.qos,
    seconds: Math.round(seconds * 10) / 10,
    sent: result.stats.sent,
    acked,
    throughput: Math.round((result.ledger.qos === 0 ? result.stats.sent : acked) / Math.max(seconds, 0.001)),
    ackLatencyMs: { p50: r2(p.p50)!, p90: r2(p.p90)!, p99: r2(p.p99)!, max: r2(p.max)! },
    simLoopP99Ms: r2(result.simLoopP99Ms)!,
    connects: result.stats.connects,
    disconnects: result.stats.disconnects,
    requeued: result.stats.requeued,
    errors: result.stats.errors,
  };
}

export function formatSummary(s: RunSummary): string {
  const errors = Object.entries(s.errors)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const l = s.ackLatencyMs;
  const rows: Array<[string, string]> = [
    ['run', s.run],
    ['devices', String(s.devices)],
    ['qos', String(s.qos)],
    ['duration', `${s.seconds} s`],
    ['sent', String(s.sent)],
    ['acked', s.qos === 0 ? 'n/a (QoS 0)' : String(s.acked)],
    ['throughput', `${s.throughput} msg/s`],
    ['ack latency', `p50 ${l.p50} ms  p90 ${l.p90} ms  p99 ${l.p99} ms  max ${l.max} ms`],
    ['sim lag', `event-loop delay p99 ${s.simLoopP99Ms} ms (of the simulator itself)`],
    ['connects', `${s.connects} (disconnects ${s.disconnects})`],
    ['resent', `${s.requeued} failed publishes sent again (buffering devices)`],
    ['errors', errors || 'none'],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  return `${rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n')}\n`;
}

/** One line, rewritten in place on a TTY. */
export function progressLine(s: FleetStats, lastAcked: number, dtMs: number): string {
  const rate = Math.round(((s.acked - lastAcked) * 1000) / Math.max(dtMs, 1));
  return `rate ${rate}/s  sent ${s.sent}  acked ${s.acked}  in-flight ${s.inflight}  connected ${s.connected}  errors ${s.errorCount()}`;
}
