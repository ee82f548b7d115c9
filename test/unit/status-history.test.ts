/** The status page's 15-minute history: rates from counter differences, a bounded ring, aligned series. */
import { describe, expect, it } from 'vitest';
import { History } from '../../gateway/src/status/history.js';
import type { SinkStatus, StatusSnapshot } from '../../gateway/src/status/snapshot.js';

function snap(now: number, received: number, sinks: Array<[string, number, number]>): StatusSnapshot {
  return {
    now,
    received,
    sinks: sinks.map(([name, sent, backlogMessages]) => ({ name, sent, backlogMessages }) as SinkStatus),
  } as StatusSnapshot;
}

describe('History', () => {
  it('turns counters into per-second rates, the first snapshot only setting the baseline', () => {
    const h = new History();
    h.add(snap(10_000, 100, [['a', 50, 5]]));
    expect(h.length).toBe(0);
    h.add(snap(12_000, 300, [['a', 150, 7]]));
    expect(h.rates).toEqual({ in: 100, out: 50 });
    expect(h.view()).toEqual({ t: [12], in: [100], out: [50], backlog: { a: [7] } });
  });

  it('never reports a negative rate (a counter does not go down; a restart or clock step might look so)', () => {
    const h = new History();
    h.add(snap(10_000, 100, [['a', 50, 0]]));
    h.add(snap(11_000, 40, [['a', 10, 0]]));
    expect(h.rates).toEqual({ in: 0, out: 0 });
  });

  it('keeps only the newest points and keeps every series aligned, a sink added later starting with nulls', () => {
    const h = new History(3);
    h.add(snap(0, 0, [['a', 0, 0]]));
    h.add(snap(1000, 1, [['a', 1, 1]]));
    h.add(snap(2000, 2, [['a', 2, 2]]));
    h.add(
      snap(3000, 3, [
        ['a', 3, 3],
        ['b', 0, 9],
      ]),
    );
    h.add(
      snap(4000, 4, [
        ['a', 4, 4],
        ['b', 0, 8],
      ]),
    );
    const v = h.view();
    expect(v.t).toEqual([2, 3, 4]);
    expect(v.backlog).toEqual({ a: [2, 3, 4], b: [null, 9, 8] });
    expect(v.in).toHaveLength(3);
  });
});
