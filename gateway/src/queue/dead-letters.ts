/**
 * The dead-letter table, for reading and retrying (the rows are written by
 * store.ts), and its bound: retention keeps the newest MAX_DEAD_LETTERS rows
 * and at most MAX_DEAD_LETTER_BYTES of payload, so a device sending garbage
 * for days cannot fill the SD card through this table.
 */
import type Database from 'better-sqlite3';

export const MAX_DEAD_LETTER_BYTES = 64 * 1024 * 1024;

export interface DeadLetterRow {
  id: number;
  at: number;
  reason: string;
  stage: string;
  route: string | null;
  sink: string | null;
  seq: number | null;
  device: string | null;
  topic: string | null;
  received: number | null;
  content_type: string | null;
  payload: Buffer | null;
  size: number;
}

export interface DeadLetterFilter {
  route?: string;
  /** substring of the reason */
  reason?: string;
  ids?: number[];
  limit?: number;
}

/** meta key of the running count of rows removed by the bound (a row there survives restarts) */
export const TRIMMED_KEY = 'dead_letters_trimmed';

/**
 * Deletes the oldest rows beyond maxCount, then beyond maxBytes; returns how many went
 * and adds them to the running count in `meta`, in the caller's transaction, so the
 * rows the bound removed are counted and `deadletters list` can say so.
 */
export function trimDeadLetters(
  db: Database.Database,
  maxCount: number,
  maxBytes = MAX_DEAD_LETTER_BYTES,
): number {
  let n = db
    .prepare('DELETE FROM dead_letters WHERE id <= (SELECT max(id) FROM dead_letters) - ?')
    .run(maxCount).changes;
  const total = db.prepare<[], { b: number | null }>('SELECT sum(size) AS b FROM dead_letters').get()?.b ?? 0;
  if (total > maxBytes) {
    // the newest rows whose running total fits stay; window functions need SQLite 3.25 (better-sqlite3 12 has 3.4x)
    n += db
      .prepare(
        `DELETE FROM dead_letters WHERE id IN (
           SELECT id FROM (SELECT id, sum(size) OVER (ORDER BY id DESC) AS run FROM dead_letters) WHERE run > ?)`,
      )
      .run(maxBytes).changes;
  }
  if (n > 0) {
    db.prepare(
      `INSERT INTO meta(key, value) VALUES (?, ?)
       ON CONFLICT(key) DO UPDATE SET value = CAST(CAST(value AS INTEGER) + excluded.value AS TEXT)`,
    ).run(TRIMMED_KEY, String(n));
  }
  return n;
}

/** Rows removed by the table's bound since the queue file was created. */
export function trimmedDeadLetters(db: Database.Database): number {
  const r = db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?').get(TRIMMED_KEY);
  return r ? Number(r.value) : 0;
}

function where(f: DeadLetterFilter): { sql: string; args: Array<string | number> } {
  const parts: string[] = [];
  const args: Array<string | number> = [];
  if (f.route !== undefined) {
    parts.push('route = ?');
    args.push(f.route);
  }
  if (f.reason !== undefined) {
    parts.push('instr(reason, ?) > 0');
    args.push(f.reason);
  }
  if (f.ids && f.ids.length > 0) {
    parts.push(`id IN (${f.ids.map(() => '?').join(',')})`);
    args.push(...f.ids);
  }
  return { sql: parts.length > 0 ? `WHERE ${parts.join(' AND ')}` : '', args };
}

/** Oldest first (the order they were refused in); `limit` keeps the newest n of them. */
export function readDeadLetters(db: Database.Database, f: DeadLetterFilter = {}): DeadLetterRow[] {
  const w = where(f);
  const limit = f.limit ?? -1;
  return db
    .prepare<Array<string | number>, DeadLetterRow>(
      `SELECT * FROM (SELECT * FROM dead_letters ${w.sql} ORDER BY id DESC LIMIT ?) ORDER BY id`,
    )
    .all(...w.args, limit);
}

export interface DeadLetterCount {
  reason: string;
  stage: string;
  route: string | null;
  n: number;
  bytes: number;
  last: number;
}

export function countDeadLetters(db: Database.Database, f: DeadLetterFilter = {}): DeadLetterCount[] {
  const w = where(f);
  return db
    .prepare<Array<string | number>, DeadLetterCount>(
      `SELECT reason, stage, route, count(*) AS n, sum(size) AS bytes, max(at) AS last
       FROM dead_letters ${w.sql} GROUP BY reason, stage, route ORDER BY n DESC, last DESC, reason`,
    )
    .all(...w.args);
}

export function deleteDeadLetter(db: Database.Database, id: number): void {
  db.prepare('DELETE FROM dead_letters WHERE id = ?').run(id);
}
