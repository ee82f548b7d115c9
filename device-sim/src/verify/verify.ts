/**
 * The verifier's judgement, a pure function: given the ack ledger and what
 * arrived upstream (in arrival order), it reports per device the acknowledged
 * sequence numbers that never arrived (lost), duplicates, out-of-order
 * deliveries and end-to-end latency. Only acknowledged messages can be lost:
 * the gateway promised nothing about the others.
 */
import { Histogram, type Percentiles, percentiles } from '../histogram.js';
import type { Ledger } from '../ledger.js';

export interface Arrival {
  run: string;
  dev: string;
  seq: number;
  /** device send time (from the payload) */
  sentAt: number;
  /** when it reached the upstream, if the source knows */
  arrivedAt: number | null;
}

export interface DeviceVerdict {
  device: string;
  acked: number;
  /** distinct sequence numbers that arrived */
  arrived: number;
  /** acknowledged, never arrived */
  missing: number[];
  duplicates: number;
  outOfOrder: number;
}

export interface VerifyReport {
  run: string;
  devices: number;
  acked: number;
  arrived: number;
  lost: number;
  duplicates: number;
  outOfOrder: number;
  /** arrived although never acknowledged (sent before a crash, acked nowhere): fine, counted */
  unackedArrived: number;
  /** records of this run from devices the ledger does not know */
  unknownDevices: number;
  /** records of other runs, or not simulated messages, skipped */
  foreign: number;
  /** send -> upstream arrival, over the first arrival of each message */
  latencyMs: Percentiles | null;
  /** only the devices with something to report */
  problems: DeviceVerdict[];
}

interface Seen {
  seqs: Set<number>;
  maxSeq: number;
  duplicates: number;
  outOfOrder: number;
}

export function verify(
  ledger: Ledger,
  arrivals: Iterable<Arrival>,
  opts: { foreign?: number } = {},
): VerifyReport {
  const seen = new Map<string, Seen>();
  const latency = new Histogram();
  let foreign = opts.foreign ?? 0;
  let unknownDevices = 0;
  for (const a of arrivals) {
    if (a.run !== ledger.run) {
      foreign++;
      continue;
    }
    if (!ledger.devices.has(a.dev)) {
      unknownDevices++;
      continue;
    }
    let s = seen.get(a.dev);
    if (!s) {
      s = { seqs: new Set(), maxSeq: -1, duplicates: 0, outOfOrder: 0 };
      seen.set(a.dev, s);
    }
    if (s.seqs.has(a.seq)) {
      s.duplicates++;
      continue;
    }
    s.seqs.add(a.seq);
    // a first delivery behind a later one breaks per-device order (a redelivery is a duplicate, not this)
    if (a.seq < s.maxSeq) s.outOfOrder++;
    else s.maxSeq = a.seq;
    if (a.arrivedAt !== null) latency.record(a.arrivedAt - a.sentAt);
  }
  const report: VerifyReport = {
    run: ledger.run,
    devices: ledger.devices.size,
    acked: 0,
    arrived: 0,
    lost: 0,
    duplicates: 0,
    outOfOrder: 0,
    unackedArrived: 0,
    unknownDevices,
    foreign,
    latencyMs: latency.count > 0 ? percentiles(latency) : null,
    problems: [],
  };
  for (const [device, d] of [...ledger.devices].sort((a, b) => a[0].localeCompare(b[0]))) {
    const s = seen.get(device) ?? { seqs: new Set<number>(), maxSeq: -1, duplicates: 0, outOfOrder: 0 };
    const missing = [...d.acked].filter((seq) => !s.seqs.has(seq)).sort((a, b) => a - b);
    for (const seq of s.seqs) if (!d.acked.has(seq)) report.unackedArrived++;
    report.acked += d.acked.size;
    report.arrived += s.seqs.size;
    report.lost += missing.length;
    report.duplicates += s.duplicates;
    report.outOfOrder += s.outOfOrder;
    if (missing.length > 0 || s.duplicates > 0 || s.outOfOrder > 0) {
      report.problems.push({
        device,
        acked: d.acked.size,
        arrived: s.seqs.size,
        missing,
        duplicates: s.duplicates,
        outOfOrder: s.outOfOrder,
      });
    }
  }
  return report;
}

/** 3,4,5,9 -> "3-5, 9" */
export function compactSeqs(seqs: number[], limit = 20): string {
  const parts: string[] = [];
  let i = 0;
  while (i < seqs.length && parts.length < limit) {
    let j = i;
    while (j + 1 < seqs.length && seqs[j + 1] === seqs[j]! + 1) j++;
    parts.push(i === j ? `${seqs[i]}` : `${seqs[i]}-${seqs[j]}`);
    i = j + 1;
  }
  return i < seqs.length ? `${parts.join(', ')}, ...` : parts.join(', ');
}

export function formatReport(r: VerifyReport, source: string): string {
  const lat = r.latencyMs;
  const lines = [
    `verify run ${r.run} from ${source}`,
    `devices ${r.devices}  acked ${r.acked}  arrived ${r.arrived}  LOST ${r.lost}  duplicates ${r.duplicates}  out-of-order ${r.outOfOrder}`,
    `arrived unacked ${r.unackedArrived}  unknown devices ${r.unknownDevices}  other records skipped ${r.foreign}`,
    lat
      ? `end-to-end latency (${lat.count}): p50 ${lat.p50.toFixed(1)} ms  p90 ${lat.p90.toFixed(1)} ms  p99 ${lat.p99.toFixed(1)} ms  max ${lat.max.toFixed(1)} ms`
      : 'end-to-end latency: not known for this source',
  ];
  for (const p of r.problems.slice(0, 50)) {
    const parts = [`  ${p.device}: acked ${p.acked}, arrived ${p.arrived}`];
    if (p.missing.length) parts.push(`missing ${p.missing.length} [${compactSeqs(p.missing)}]`);
    if (p.duplicates) parts.push(`duplicates ${p.duplicates}`);
    if (p.outOfOrder) parts.push(`out-of-order ${p.outOfOrder}`);
    lines.push(parts.join(', '));
  }
  if (r.problems.length > 50) lines.push(`  ... and ${r.problems.length - 50} more devices`);
  lines.push(
    r.lost === 0
      ? 'OK: no acknowledged message is missing'
      : `FAIL: ${r.lost} acknowledged messages are missing`,
  );
  return `${lines.join('\n')}\n`;
}
