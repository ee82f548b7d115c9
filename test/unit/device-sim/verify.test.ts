import { describe, expect, it } from 'vitest';
import type { Ledger } from '../../../device-sim/src/ledger.js';
import { type Arrival, compactSeqs, formatReport, verify } from '../../../device-sim/src/verify/verify.js';

function ledger(acked: Record<string, number[]>, run = 'r1'): Ledger {
  const devices = new Map(
    Object.entries(acked).map(([id, seqs]) => [
      id,
      { generated: seqs.length, published: seqs.length, acked: new Set(seqs) },
    ]),
  );
  return { run, qos: 1, startedAt: 0, endedAt: 0, devices };
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const arrival = (dev: string, seq: number, run = 'r1'): Arrival => ({
  run,
  dev,
  seq,
  sentAt: 1000 + seq,
  arrivedAt: 1010 + seq,
});

describe('verify', () => {
  it('reports exactly the acknowledged sequence numbers missing from an incomplete record set', () => {
    const l = ledger({ a: range(100), b: range(50) });
    const removed = { a: new Set([0, 17, 18, 19, 99]), b: new Set([25]) };
    const arrivals = [
      ...range(100)
        .filter((s) => !removed.a.has(s))
        .map((s) => arrival('a', s)),
      ...range(50)
        .filter((s) => !removed.b.has(s))
        .map((s) => arrival('b', s)),
    ];
    const r = verify(l, arrivals);
    expect(r.lost).toBe(6);
    expect(r.problems.map((p) => [p.device, p.missing])).toEqual([
      ['a', [0, 17, 18, 19, 99]],
      ['b', [25]],
    ]);
    expect(r.acked).toBe(150);
    expect(r.arrived).toBe(144);
    expect(formatReport(r, 'test')).toContain('FAIL: 6 acknowledged messages are missing');
    expect(formatReport(r, 'test')).toContain('missing 5 [0, 17-19, 99]');
  });

  it('says 0 lost when every acknowledged message arrived, and ignores unacknowledged ones that did not', () => {
    const l = ledger({ a: [0, 1, 2, 4] });
    const r = verify(
      l,
      [0, 1, 2, 3, 4].map((s) => arrival('a', s)),
    );
    expect(r.lost).toBe(0);
    expect(r.unackedArrived).toBe(1);
    expect(r.problems).toEqual([]);
    expect(formatReport(r, 'test')).toContain('OK: no acknowledged message is missing');
  });

  it('counts duplicates and out-of-order first deliveries per device, separately', () => {
    const l = ledger({ a: range(5) });
    const order = [0, 1, 3, 2, 4, 3, 0];
    const r = verify(
      l,
      order.map((s) => arrival('a', s)),
    );
    expect(r.lost).toBe(0);
    expect(r.duplicates).toBe(2);
    expect(r.outOfOrder).toBe(1);
  });

  it('skips records of other runs and counts devices it does not know', () => {
    const l = ledger({ a: [0, 1] });
    const r = verify(l, [arrival('a', 0), arrival('a', 1, 'old-run'), arrival('zz', 0)], { foreign: 3 });
    expect(r.lost).toBe(1);
    expect(r.foreign).toBe(4);
    expect(r.unknownDevices).toBe(1);
  });

  it('computes end-to-end latency over first arrivals only', () => {
    const l = ledger({ a: [0, 1] });
    const late: Arrival = { ...arrival('a', 0), arrivedAt: 999_999 };
    const r = verify(l, [arrival('a', 0), arrival('a', 1), late]);
    expect(r.latencyMs?.count).toBe(2);
    expect(r.latencyMs?.max).toBe(10);
  });
});

describe('compactSeqs', () => {
  it('writes runs as ranges and cuts long lists', () => {
    expect(compactSeqs([1, 2, 3, 5, 7, 8])).toBe('1-3, 5, 7-8');
    expect(compactSeqs([1, 3, 5, 7], 2)).toBe('1, 3, ...');
  });
});
