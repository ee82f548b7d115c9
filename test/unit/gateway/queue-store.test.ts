import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { QueuedMessage } from '../../../gateway/src/contracts/record.js';
import {
  MAX_DEAD_LETTERS,
  QueueReader,
  QueueStore,
  rowSize,
  type SinkLimits,
} from '../../../gateway/src/queue/store.js';
import { tempDir } from '../../support/gateway-process.js';

const open: QueueStore[] = [];
function store(sinks: Record<string, Partial<SinkLimits>>, file = join(tempDir(), 'q.db')): QueueStore {
  const full: Record<string, SinkLimits> = {};
  for (const [k, v] of Object.entries(sinks))
    full[k] = { maxBytes: 1e9, maxAgeMs: 0, whenFull: 'drop-oldest', ...v };
  const s = new QueueStore({ file, durability: 'power-loss', sinks: full });
  open.push(s);
  return s;
}
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

function msg(
  sink: string,
  device: string,
  n: number,
  payloadBytes = 10,
  receivedAt = 1000 + n,
): QueuedMessage {
  return {
    sink,
    route: 'r',
    deviceId: device,
    topic: `devices/${device}/t`,
    receivedAt,
    contentType: 'application/json',
    payload: Buffer.alloc(payloadBytes, n % 256),
  };
}

describe('queue store', () => {
  it('reads back in arrival order, per sink, from a cursor', () => {
    const s = store({ a: {}, b: {} });
    s.commit([[msg('a', 'd1', 1), msg('b', 'd1', 1)], [msg('a', 'd2', 2)], [msg('a', 'd1', 3)]], []);
    const a = s.read('a', 0, 10, 1e9);
    expect(a.map((r) => [r.deviceId, r.receivedAt])).toEqual([
      ['d1', 1001],
      ['d2', 1002],
      ['d1', 1003],
    ]);
    expect(s.read('a', a[1]!.seq, 10, 1e9).map((r) => r.receivedAt)).toEqual([1003]);
    expect(s.read('b', 0, 10, 1e9)).toHaveLength(1);
  });

  it('keeps an exact byte count per sink through appends and removals', () => {
    const s = store({ a: {} });
    const ms = [msg('a', 'd', 1, 100), msg('a', 'd', 2, 7), msg('a', 'dev-long', 3, 0)];
    s.commit([ms], []);
    const total = ms.reduce((t, m) => t + rowSize(m), 0);
    expect(s.stats('a')).toMatchObject({ count: 3, bytes: total });
    const rows = s.read('a', 0, 10, 1e9);
    const report = s.commit([], [{ sink: 'a', uptoSeq: rows[1]!.seq }]);
    expect(report.acked).toEqual({ a: 2 });
    expect(s.stats('a')).toMatchObject({ count: 1, bytes: rowSize(ms[2]!) });
  });

  it('never reuses a sequence number, even after the queue empties and the file reopens', () => {
    const file = join(tempDir(), 'q.db');
    const s1 = store({ a: {} }, file);
    s1.commit([[msg('a', 'd', 1)], [msg('a', 'd', 2)]], []);
    const last = s1.read('a', 0, 10, 1e9).at(-1)!.seq;
    s1.commit([], [{ sink: 'a', uptoSeq: last }]);
    s1.close();
    const s2 = store({ a: {} }, file);
    s2.commit([[msg('a', 'd', 3)]], []);
    expect(s2.read('a', 0, 10, 1e9)[0]!.seq).toBe(last + 1);
  });

  it('drops the oldest messages when the queue is full under drop-oldest, and counts them', () => {
    const one = rowSize(msg('a', 'd', 0, 100));
    const s = store({ a: { maxBytes: one * 3, whenFull: 'drop-oldest' } });
    for (let i = 1; i <= 3; i++) expect(s.commit([[msg('a', 'd', i, 100)]], []).drops).toEqual({});
    const r = s.commit([[msg('a', 'd', 4, 100)], [msg('a', 'd', 5, 100)]], []);
    expect(r.groups).toEqual([{ ok: true }, { ok: true }]);
    expect(r.drops).toEqual({ a: { dropped_full: 2 } });
    expect(s.read('a', 0, 10, 1e9).map((x) => x.receivedAt)).toEqual([1003, 1004, 1005]);
    expect(s.stats('a').bytes).toBe(one * 3);
  });

  it('refuses the whole publish under reject-new, in every sink, when one sink is full', () => {
    const one = rowSize(msg('a', 'd', 0, 100));
    const s = store({ a: { maxBytes: one * 2, whenFull: 'reject-new' }, b: {} });
    s.commit([[msg('a', 'd', 1, 100)], [msg('a', 'd', 2, 100)]], []);
    const r = s.commit([[msg('a', 'd', 3, 100), msg('b', 'd', 3, 100)]], []);
    expect(r.groups).toEqual([{ ok: false, reason: 'rejected_full' }]);
    expect(r.drops).toEqual({ a: { rejected_full: 1 }, b: { rejected_full: 1 } });
    expect(s.stats('a').count).toBe(2);
    expect(s.stats('b').count).toBe(0);
    // room again after an upstream ack
    s.commit([], [{ sink: 'a', uptoSeq: s.read('a', 0, 1, 1e9)[0]!.seq }]);
    expect(s.commit([[msg('a', 'd', 4, 100)]], []).groups).toEqual([{ ok: true }]);
  });

  it('drops a message larger than the whole budget instead of wedging the queue', () => {
    const s = store({ a: { maxBytes: 500 } });
    const r = s.commit([[msg('a', 'd', 1, 1000)], [msg('a', 'd', 2, 10)]], []);
    expect(r.drops).toEqual({ a: { too_large: 1 } });
    expect(s.read('a', 0, 10, 1e9).map((x) => x.receivedAt)).toEqual([1002]);
  });

  it('expires messages older than maxAge and counts them per sink', () => {
    const s = store({ a: { maxAgeMs: 1000 }, b: { maxAgeMs: 0 } });
    s.commit(
      [
        [msg('a', 'd', 1, 10, 1_000)],
        [msg('a', 'd', 2, 10, 5_000)],
        [msg('b', 'd', 3, 10, 1_000)],
        [msg('a', 'd', 3, 10, 9_500)],
      ],
      [],
    );
    expect(s.expire(10_000)).toEqual({ a: 2 });
    expect(s.read('a', 0, 10, 1e9).map((x) => x.receivedAt)).toEqual([9_500]);
    expect(s.stats('b').count).toBe(1);
  });

  it('moves dead letters out of the queue with their reason', () => {
    const s = store({ a: {} });
    s.commit([[msg('a', 'd', 1)], [msg('a', 'd', 2)]], []);
    const rows = s.read('a', 0, 10, 1e9);
    const r = s.commit(
      [],
      [
        {
          sink: 'a',
          uptoSeq: rows[1]!.seq,
          deadLetters: [{ seq: rows[0]!.seq, reason: 'too big', stage: 'sink' }],
        },
      ],
    );
    expect(r.acked).toEqual({ a: 1 });
    expect(r.drops).toEqual({ a: { dead_lettered: 1 } });
    const dl = s.db.prepare('SELECT reason, seq, device FROM dead_letters').all();
    expect(dl).toEqual([{ reason: 'too big', seq: rows[0]!.seq, device: 'd' }]);
  });

  it('keeps only the newest dead letters when retention runs', () => {
    const s = store({ a: {} });
    const entry = {
      reason: 'r',
      stage: 'decode',
      route: 'x',
      device: 'd',
      topic: 't',
      receivedAt: 1,
      payload: Buffer.from('p'),
    };
    s.commit(
      [],
      [],
      Array.from({ length: MAX_DEAD_LETTERS + 25 }, () => entry),
    );
    s.expire();
    const n = s.db
      .prepare<[], { n: number; lo: number }>('SELECT count(*) AS n, min(id) AS lo FROM dead_letters')
      .get()!;
    expect(n).toEqual({ n: MAX_DEAD_LETTERS, lo: 26 });
  });

  it('stops a batch read before maxBytes but always returns at least one record', () => {
    const s = store({ a: {} });
    s.commit([[msg('a', 'd', 1, 600)], [msg('a', 'd', 2, 600)], [msg('a', 'd', 3, 600)]], []);
    expect(s.read('a', 0, 10, 1000)).toHaveLength(1);
    expect(s.read('a', 0, 10, 100)).toHaveLength(1);
    expect(s.read('a', 0, 10, 1300)).toHaveLength(2);
  });

  it('gives freed pages back so the file shrinks after a drain', () => {
    const file = join(tempDir(), 'q.db');
    const s = store({ a: {} }, file);
    for (let i = 0; i < 20; i++)
      s.commit([Array.from({ length: 100 }, (_, j) => msg('a', 'd', i * 100 + j, 1000))], []);
    s.db.pragma('wal_checkpoint(TRUNCATE)');
    const full = statSync(file).size;
    const last = s.read('a', 0, 100_000, 1e12).at(-1)!.seq;
    s.commit([], [{ sink: 'a', uptoSeq: last }]);
    while (s.reclaim() > 0);
    s.db.pragma('wal_checkpoint(TRUNCATE)');
    const after = statSync(file).size;
    expect(full).toBeGreaterThan(2_000_000);
    expect(after).toBeLessThan(full / 10);
  });

  it('lets a second connection read what the writer committed (WAL)', () => {
    const file = join(tempDir(), 'q.db');
    const s = store({ a: {} }, file);
    const reader = new QueueReader(file);
    s.commit([[msg('a', 'd', 1)]], []);
    expect(reader.read('a', 0, 10, 1e9)).toHaveLength(1);
    expect(reader.stats('a').count).toBe(1);
    reader.close();
  });
});
