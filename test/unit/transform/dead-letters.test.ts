/** The dead-letter table's bound (count and bytes) and its readers, on a real SQLite file. */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  countDeadLetters,
  readDeadLetters,
  trimDeadLetters,
  trimmedDeadLetters,
} from '../../../gateway/src/queue/dead-letters.js';
import { MAX_DEAD_LETTERS, QueueStore } from '../../../gateway/src/queue/store.js';
import { tempDir } from '../../support/gateway-process.js';

const open: QueueStore[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

function store(): QueueStore {
  const s = new QueueStore({ file: join(tempDir(), 'q.db'), durability: 'process-crash', sinks: {} });
  open.push(s);
  return s;
}

const entry = (reason: string, size: number, route = 'r') => ({
  reason,
  stage: 'decode',
  route,
  device: 'd',
  topic: 't',
  receivedAt: 1,
  payload: Buffer.alloc(size, 0x61),
});

describe('dead letters', () => {
  it.each<[string, number, number, number[]]>([
    ['count bound keeps the newest', 3, 1_000_000, [4, 5, 6]],
    ['byte bound keeps the newest rows that fit', 100, 250, [5, 6]],
    ['both: the tighter wins', 2, 1_000_000, [5, 6]],
    ['nothing to trim', 100, 1_000_000, [1, 2, 3, 4, 5, 6]],
  ])('%s', (_name, maxCount, maxBytes, kept) => {
    const s = store();
    s.commit(
      [],
      [],
      [10, 200, 30, 100, 100, 100].map((n, i) => entry(`e${i}`, n)),
    );
    const removed = trimDeadLetters(s.db, maxCount, maxBytes);
    const ids = readDeadLetters(s.db).map((r) => r.id);
    expect(ids).toEqual(kept);
    expect(removed).toBe(6 - kept.length);
    expect(trimmedDeadLetters(s.db)).toBe(6 - kept.length);
  });

  it('counts the rows the retention bound removes, adding up over runs and surviving a reopen', () => {
    const file = join(tempDir(), 'q.db');
    const s = new QueueStore({ file, durability: 'process-crash', sinks: {} });
    const many = (n: number) => Array.from({ length: n }, (_, i) => entry(`e${i}`, 1));
    s.commit([], [], many(MAX_DEAD_LETTERS + 7));
    s.expire();
    expect(countDeadLetters(s.db).reduce((a, c) => a + c.n, 0)).toBe(MAX_DEAD_LETTERS);
    expect(trimmedDeadLetters(s.db)).toBe(7);
    s.commit([], [], many(5));
    s.expire();
    s.expire(); // nothing more to trim: the count must not move
    s.close();
    const again = new QueueStore({ file, durability: 'process-crash', sinks: {} });
    open.push(again);
    expect(trimmedDeadLetters(again.db)).toBe(12);
  });

  it('reads with filters (route, reason substring, ids, newest n) and counts per reason', () => {
    const s = store();
    s.commit(
      [],
      [],
      [
        entry('invalid JSON: x', 1),
        entry('invalid JSON: y', 2, 'q'),
        entry('map: boom', 3),
        entry('map: boom', 4),
      ],
    );
    expect(readDeadLetters(s.db, { route: 'r' }).map((r) => r.id)).toEqual([1, 3, 4]);
    expect(readDeadLetters(s.db, { reason: 'JSON' }).map((r) => r.id)).toEqual([1, 2]);
    expect(readDeadLetters(s.db, { ids: [2, 4] }).map((r) => r.id)).toEqual([2, 4]);
    expect(readDeadLetters(s.db, { limit: 2 }).map((r) => r.id)).toEqual([3, 4]);
    expect(countDeadLetters(s.db).map((c) => [c.reason, c.route, c.n, c.bytes])).toEqual([
      ['map: boom', 'r', 2, 7],
      ['invalid JSON: x', 'r', 1, 1],
      ['invalid JSON: y', 'q', 1, 2],
    ]);
  });
});
