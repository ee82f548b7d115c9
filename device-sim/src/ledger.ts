/**
 * The ack ledger: which sequence numbers of which device got their PUBACK
 * (QoS 1) or PUBCOMP (QoS 2). Only these are promised by the gateway, so only
 * these can be lost. Written to a file so `verify` can run as its own command
 * (after a drain, on another machine, against another upstream).
 */
import { readFile, writeFile } from 'node:fs/promises';

export interface DeviceLedger {
  /** sequence numbers generated (0..generated-1) */
  generated: number;
  /** sequence numbers handed to the MQTT client */
  published: number;
  /** acknowledged sequence numbers */
  acked: Set<number>;
}

export interface Ledger {
  run: string;
  qos: 0 | 1 | 2;
  startedAt: number;
  endedAt: number;
  devices: Map<string, DeviceLedger>;
}

/** [first, last] inclusive runs, so a dense ledger of a million acks stays small on disk. */
export type Range = [number, number];

export function toRanges(values: Iterable<number>): Range[] {
  const sorted = [...values].sort((a, b) => a - b);
  const out: Range[] = [];
  for (const v of sorted) {
    const last = out.at(-1);
    if (last && v <= last[1] + 1) last[1] = Math.max(last[1], v);
    else out.push([v, v]);
  }
  return out;
}

export function fromRanges(ranges: Range[]): Set<number> {
  const out = new Set<number>();
  for (const [a, b] of ranges) for (let v = a; v <= b; v++) out.add(v);
  return out;
}

interface LedgerFile {
  format: 'tidegate-sim-ledger/1';
  run: string;
  qos: 0 | 1 | 2;
  startedAt: number;
  endedAt: number;
  devices: Record<string, { generated: number; published: number; acked: Range[] }>;
}

export function ledgerToJSON(l: Ledger): LedgerFile {
  const devices: LedgerFile['devices'] = {};
  for (const [id, d] of l.devices) {
    devices[id] = { generated: d.generated, published: d.published, acked: toRanges(d.acked) };
  }
  return {
    format: 'tidegate-sim-ledger/1',
    run: l.run,
    qos: l.qos,
    startedAt: l.startedAt,
    endedAt: l.endedAt,
    devices,
  };
}

export function ledgerFromJSON(j: unknown, source = 'ledger'): Ledger {
  const f = j as Partial<LedgerFile>;
  if (f?.format !== 'tidegate-sim-ledger/1' || typeof f.run !== 'string' || typeof f.devices !== 'object') {
    throw new Error(`${source}: not a tidegate-sim ledger (format tidegate-sim-ledger/1)`);
  }
  const devices = new Map<string, DeviceLedger>();
  for (const [id, d] of Object.entries(f.devices ?? {})) {
    devices.set(id, { generated: d.generated, published: d.published, acked: fromRanges(d.acked) });
  }
  return { run: f.run, qos: f.qos ?? 1, startedAt: f.startedAt ?? 0, endedAt: f.endedAt ?? 0, devices };
}

export async function writeLedger(path: string, l: Ledger): Promise<void> {
  await writeFile(path, `${JSON.stringify(ledgerToJSON(l))}\n`);
}

export async function readLedger(path: string): Promise<Ledger> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ledger ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  try {
    return ledgerFromJSON(JSON.parse(text), path);
  } catch (err) {
    if (err instanceof SyntaxError) throw new Error(`${path}: not JSON (${err.message})`);
    throw err;
  }
}

/** Adds the devices of `b` to `a` (workers own disjoint device sets). */
export function mergeLedgers(a: Ledger, b: Ledger): Ledger {
  for (const [id, d] of b.devices) a.devices.set(id, d);
  a.startedAt = Math.min(a.startedAt, b.startedAt);
  a.endedAt = Math.max(a.endedAt, b.endedAt);
  return a;
}

export function ackedCount(l: Ledger): number {
  let n = 0;
  for (const d of l.devices.values()) n += d.acked.size;
  return n;
}
