/**
 * The store-and-forward queue: one SQLite file, one logical queue per sink.
 *
 * Invariants (the promises of DESIGN.md section 1 live here):
 * 1. A message is "committed" when the transaction that inserted it has
 *    returned from COMMIT. With durability `power-loss` that COMMIT fsyncs the
 *    WAL (synchronous=FULL), so it survives power loss; with `process-crash`
 *    (synchronous=NORMAL) it survives kill -9 of the process. The broker sends
 *    PUBACK / PUBREC only after that.
 * 2. A row is deleted only (a) after its sink's upstream acknowledged it, (b)
 *    when it is older than the sink's maxAge (counted `expired`), (c) when
 *    `drop-oldest` makes room for a newer one (counted `dropped_full`), or (d)
 *    when it is moved to the dead-letter table (counted `dead_lettered`).
 *    Every path that deletes counts.
 * 3. `seq` comes from AUTOINCREMENT and is never reused, even after the queue
 *    empties, so `<gatewayId>/<seq>` is a stable, unique record id.
 * 4. Per sink, rows are read in `seq` order, which is arrival order, so each
 *    device's messages reach the upstream in the order the device sent them.
 * 5. "Full" means: the sink's byte total (kept exact in `sinks.bytes`, updated
 *    in the same transaction as every insert and delete) plus the new row
 *    would exceed `maxBytes`. `reject-new` then refuses the whole publish
 *    (all its rows, in every sink) so no sink holds half of a message that the
 *    device will send again.
 * 6. Freed pages are returned to the file system by incremental vacuum, so the
 *    file shrinks after a drain.
 *
 * This class is synchronous and runs inside the writer worker (queue/worker.ts);
 * the broker's event loop never waits on an fsync.
 */
import Database from 'better-sqlite3';
import type { ContentType, QueuedMessage, StoredRecord } from '../contracts/record.js';
import { trimDeadLetters } from './dead-letters.js';

export interface SinkLimits {
  maxBytes: number;
  maxAgeMs: number;
  whenFull: 'drop-oldest' | 'reject-new';
}

export interface StoreOptions {
  file: string;
  durability: 'power-loss' | 'process-crash';
  sinks: Record<string, SinkLimits>;
}

/** The dead-letter table keeps at most this many rows (the newest). */
export const MAX_DEAD_LETTERS = 10_000;

/** Free space below this (and under a quarter of the file) is left for reuse, not vacuumed. */
export const RECLAIM_MIN_BYTES = 8 * 1024 * 1024;

/** Fixed per-row overhead counted against the budget (row header, index entry). */
export const ROW_OVERHEAD = 48;

export function rowSize(m: QueuedMessage): number {
  return m.payload.length + Buffer.byteLength(m.topic) + Buffer.byteLength(m.deviceId) + ROW_OVERHEAD;
}

export type DropReason = 'dropped_full' | 'rejected_full' | 'expired' | 'dead_lettered' | 'too_large';

/** What one transaction did, for the counters. */
export interface CommitReport {
  /** per publish group: accepted or why not */
  groups: Array<{ ok: true } | { ok: false; reason: 'rejected_full' }>;
  /** per sink, per reason, how many rows left the queue without being sent */
  drops: Record<string, Partial<Record<DropReason, number>>>;
  /** per sink, rows removed after upstream acknowledgement */
  acked: Record<string, number>;
  /** the last seq written, -1 when none */
  lastSeq: number;
}

export interface RemoveOp {
  sink: string;
  /** delete every row of the sink with seq <= uptoSeq */
  uptoSeq: number;
  /** rows among them that go to the dead-letter table instead */
  deadLetters?: Array<{ seq: number; reason: string; stage: string }>;
}

/** A message refused at ingest (undecodable, failed a step), kept for inspection and retry. */
export interface DeadLetterEntry {
  reason: string;
  stage: string;
  route: string;
  device: string;
  topic: string;
  receivedAt: number;
  payload: Buffer;
}

export interface SinkStats {
  count: number;
  bytes: number;
  oldestReceivedAt: number | null;
}

interface Row {
  seq: number;
  device: string;
  topic: string;
  route: string;
  received: number;
  content_type: string;
  payload: Buffer;
  size: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS sinks (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  bytes INTEGER NOT NULL DEFAULT 0,
  count INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS messages (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  sink INTEGER NOT NULL REFERENCES sinks(id),
  device TEXT NOT NULL,
  topic TEXT NOT NULL,
  route TEXT NOT NULL,
  received INTEGER NOT NULL,
  content_type TEXT NOT NULL,
  payload BLOB NOT NULL,
  size INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_sink ON messages(sink, seq);
CREATE TABLE IF NOT EXISTS dead_letters (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  reason TEXT NOT NULL,
  stage TEXT NOT NULL,
  route TEXT,
  sink TEXT,
  seq INTEGER,
  device TEXT,
  topic TEXT,
  received INTEGER,
  content_type TEXT,
  payload BLOB,
  size INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

export function openDatabase(file: string, durability: StoreOptions['durability']): Database.Database {
  const db = new Database(file);
  // auto_vacuum must be chosen before the first table exists; it is a no-op later.
  db.pragma('auto_vacuum = INCREMENTAL');
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${durability === 'power-loss' ? 'FULL' : 'NORMAL'}`);
  // After a checkpoint the WAL is truncated to this size, so it does not keep its peak size.
  db.pragma('journal_size_limit = 16777216');
  db.pragma('busy_timeout = 5000');
  return db;
}

export class QueueStore {
  readonly db: Database.Database;
  private readonly sinkIds = new Map<string, number>();
  private readonly limits = new Map<number, SinkLimits>();
  private readonly stmt;

  constructor(opts: StoreOptions) {
    this.db = openDatabase(opts.file, opts.durability);
    this.db.exec(SCHEMA);
    const upsert = this.db.prepare('INSERT INTO sinks(name) VALUES (?) ON CONFLICT(name) DO NOTHING');
    const idOf = this.db.prepare<[string], { id: number }>('SELECT id FROM sinks WHERE name = ?');
    for (const [name, limits] of Object.entries(opts.sinks)) {
      upsert.run(name);
      const id = idOf.get(name)!.id;
      this.sinkIds.set(name, id);
      this.limits.set(id, limits);
    }
    this.stmt = {
      insert: this.db.prepare(
        'INSERT INTO messages(sink, device, topic, route, received, content_type, payload, size) VALUES (?,?,?,?,?,?,?,?)',
      ),
      sinkBytes: this.db.prepare<[number], { bytes: number; count: number }>(
        'SELECT bytes, count FROM sinks WHERE id = ?',
      ),
      addSink: this.db.prepare('UPDATE sinks SET bytes = bytes + ?, count = count + ? WHERE id = ?'),
      oldest: this.db.prepare<[number, number], { seq: number; size: number; received: number }>(
        'SELECT seq, size, received FROM messages WHERE sink = ? ORDER BY seq LIMIT ?',
      ),
      sumUpTo: this.db.prepare<[number, number], { n: number; b: number | null }>(
        'SELECT count(*) AS n, sum(size) AS b FROM messages WHERE sink = ? AND seq <= ?',
      ),
      deleteUpTo: this.db.prepare('DELETE FROM messages WHERE sink = ? AND seq <= ?'),
      toDeadLetter: this.db.prepare(
        `INSERT INTO dead_letters(at, reason, stage, route, sink, seq, device, topic, received, content_type, payload, size)
         SELECT ?, ?, ?, route, ?, seq, device, topic, received, content_type, payload, size FROM messages WHERE sink = ? AND seq = ?`,
      ),
      insertDeadLetter: this.db.prepare(
        `INSERT INTO dead_letters(at, reason, stage, route, device, topic, received, content_type, payload, size)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'application/octet-stream', ?, ?)`,
      ),
      read: this.db.prepare<[number, number, number], Row>(
        'SELECT seq, device, topic, route, received, content_type, payload, size FROM messages WHERE sink = ? AND seq > ? ORDER BY seq LIMIT ?',
      ),
      oldestReceived: this.db.prepare<[number], { received: number }>(
        'SELECT received FROM messages WHERE sink = ? ORDER BY seq LIMIT 1',
      ),
      lastSeq: this.db.prepare<[], { seq: number }>(
        "SELECT seq FROM sqlite_sequence WHERE name = 'messages'",
      ),
    };
  }

  sinkId(name: string): number {
    const id = this.sinkIds.get(name);
    if (id === undefined) throw new Error(`unknown sink ${name}`);
    return id;
  }

  /**
   * One transaction: the removals (upstream acks, dead letters) first, so they
   * free room, then the appends. Returns what happened, for the counters.
   */
  commit(
    groups: QueuedMessage[][],
    removals: RemoveOp[],
    deadLetters: DeadLetterEntry[] = [],
    now = Date.now(),
  ): CommitReport {
    const report: CommitReport = { groups: [], drops: {}, acked: {}, lastSeq: -1 };
    const run = this.db.transaction(() => {
      for (const d of deadLetters) {
        this.stmt.insertDeadLetter.run(
          now,
          d.reason,
          d.stage,
          d.route,
          d.device,
          d.topic,
          d.receivedAt,
          d.payload,
          d.payload.length,
        );
      }
      for (const op of removals) this.applyRemove(op, report, now);
      for (const group of groups) report.groups.push(this.appendGroup(group, report));
      report.lastSeq = this.stmt.lastSeq.get()?.seq ?? -1;
    });
    run.immediate();
    return report;
  }

  private countDrop(report: CommitReport, sink: string, reason: DropReason, n: number): void {
    if (n <= 0) return;
    const bySink = report.drops[sink] ?? {};
    report.drops[sink] = bySink;
    bySink[reason] = (bySink[reason] ?? 0) + n;
  }

  private appendGroup(group: QueuedMessage[], report: CommitReport): CommitReport['groups'][number] {
    // reject-new is all-or-nothing for the group: check every such sink first.
    const need = new Map<number, number>();
    for (const m of group) {
      const id = this.sinkId(m.sink);
      need.set(id, (need.get(id) ?? 0) + rowSize(m));
    }
    for (const [id, extra] of need) {
      const limits = this.limits.get(id)!;
      if (limits.whenFull !== 'reject-new') continue;
      const { bytes } = this.stmt.sinkBytes.get(id)!;
      if (bytes + extra > limits.maxBytes) {
        for (const m of group) this.countDrop(report, m.sink, 'rejected_full', 1);
        return { ok: false, reason: 'rejected_full' };
      }
    }
    for (const m of group) {
      const id = this.sinkId(m.sink);
      const size = rowSize(m);
      const limits = this.limits.get(id)!;
      if (size > limits.maxBytes) {
        // larger than the whole budget: it can never fit, and must not wedge the queue
        this.countDrop(report, m.sink, 'too_large', 1);
        continue;
      }
      if (limits.whenFull === 'drop-oldest') this.makeRoom(id, m.sink, size, limits.maxBytes, report);
      this.stmt.insert.run(id, m.deviceId, m.topic, m.route, m.receivedAt, m.contentType, m.payload, size);
      this.stmt.addSink.run(size, 1, id);
    }
    return { ok: true };
  }

  private makeRoom(id: number, sink: string, size: number, maxBytes: number, report: CommitReport): void {
    let { bytes } = this.stmt.sinkBytes.get(id)!;
    while (bytes + size > maxBytes) {
      const rows = this.stmt.oldest.all(id, 256);
      if (rows.length === 0) return;
      let upto = -1;
      let freed = 0;
      let n = 0;
      for (const r of rows) {
        upto = r.seq;
        freed += r.size;
        n++;
        if (bytes - freed + size <= maxBytes) break;
      }
      this.stmt.deleteUpTo.run(id, upto);
      this.stmt.addSink.run(-freed, -n, id);
      bytes -= freed;
      this.countDrop(report, sink, 'dropped_full', n);
    }
  }

  private applyRemove(op: RemoveOp, report: CommitReport, now: number): void {
    const id = this.sinkId(op.sink);
    let dead = 0;
    for (const d of op.deadLetters ?? []) {
      dead += this.stmt.toDeadLetter.run(now, d.reason, d.stage, op.sink, id, d.seq).changes;
    }
    const { n, b } = this.stmt.sumUpTo.get(id, op.uptoSeq)!;
    if (n === 0) return;
    this.stmt.deleteUpTo.run(id, op.uptoSeq);
    this.stmt.addSink.run(-(b ?? 0), -n, id);
    this.countDrop(report, op.sink, 'dead_lettered', dead);
    report.acked[op.sink] = (report.acked[op.sink] ?? 0) + n - dead;
  }

  /** Deletes rows older than each sink's maxAge; returns the count per sink. Keeps the newest dead letters only. */
  expire(now = Date.now()): Record<string, number> {
    const out: Record<string, number> = {};
    const run = this.db.transaction(() => {
      // the dead-letter table is bounded too: the newest rows stay (count and bytes)
      trimDeadLetters(this.db, MAX_DEAD_LETTERS);
      for (const [name, id] of this.sinkIds) {
        const { maxAgeMs } = this.limits.get(id)!;
        if (maxAgeMs <= 0) continue;
        const cutoff = now - maxAgeMs;
        for (;;) {
          const rows = this.stmt.oldest.all(id, 1000);
          let upto = -1;
          for (const r of rows) {
            if (r.received >= cutoff) break;
            upto = r.seq;
          }
          if (upto < 0) break;
          const { n, b } = this.stmt.sumUpTo.get(id, upto)!;
          this.stmt.deleteUpTo.run(id, upto);
          this.stmt.addSink.run(-(b ?? 0), -n, id);
          out[name] = (out[name] ?? 0) + n;
          if (upto !== rows[rows.length - 1]!.seq) break;
        }
      }
    });
    run.immediate();
    return out;
  }

  /**
   * Returns free pages to the file system, a bounded amount per call, and only when
   * there are many: a queue in steady use reuses its free pages, and vacuuming them
   * each time would move pages around, write the SD card for nothing and hold the
   * writer (and so every PUBACK) while it runs. After a drain the file does shrink.
   */
  reclaim(maxPages = 2048): number {
    const free = this.db.pragma('freelist_count', { simple: true }) as number;
    const total = this.db.pragma('page_count', { simple: true }) as number;
    const pageSize = this.db.pragma('page_size', { simple: true }) as number;
    if (free * pageSize < RECLAIM_MIN_BYTES && free < total / 4) return 0;
    if (free === 0) return 0;
    const n = Math.min(free, maxPages);
    this.db.pragma(`incremental_vacuum(${n})`);
    return n;
  }

  read(sink: string, afterSeq: number, maxRecords: number, maxBytes: number): StoredRecord[] {
    return readBatch(this.db, this.stmt.read, this.sinkId(sink), sink, afterSeq, maxRecords, maxBytes);
  }

  stats(sink: string): SinkStats {
    const id = this.sinkId(sink);
    const { bytes, count } = this.stmt.sinkBytes.get(id)!;
    return { bytes, count, oldestReceivedAt: this.stmt.oldestReceived.get(id)?.received ?? null };
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

type ReadStatement = Database.Statement<[number, number, number], Row>;

/** Reads in seq order, stopping before maxBytes (but always at least one row). */
export function readBatch(
  _db: Database.Database,
  stmt: ReadStatement,
  sinkId: number,
  sink: string,
  afterSeq: number,
  maxRecords: number,
  maxBytes: number,
): StoredRecord[] {
  const rows = stmt.all(sinkId, afterSeq, maxRecords);
  const out: StoredRecord[] = [];
  let total = 0;
  for (const r of rows) {
    if (out.length > 0 && total + r.payload.length > maxBytes) break;
    total += r.payload.length;
    out.push({
      seq: r.seq,
      sink,
      route: r.route,
      deviceId: r.device,
      topic: r.topic,
      receivedAt: r.received,
      contentType: r.content_type as ContentType,
      payload: r.payload,
      size: r.size,
    });
  }
  return out;
}

/** A read-only view of the same file for the forwarders and the status page (WAL lets it read while the worker writes). */
export class QueueReader {
  readonly db: Database.Database;
  private readonly ids = new Map<string, number>();
  private readonly stmt;

  constructor(file: string) {
    this.db = new Database(file, { fileMustExist: true });
    this.db.pragma('busy_timeout = 5000');
    this.stmt = {
      read: this.db.prepare<[number, number, number], Row>(
        'SELECT seq, device, topic, route, received, content_type, payload, size FROM messages WHERE sink = ? AND seq > ? ORDER BY seq LIMIT ?',
      ),
      sink: this.db.prepare<[string], { id: number; bytes: number; count: number }>(
        'SELECT id, bytes, count FROM sinks WHERE name = ?',
      ),
      oldestReceived: this.db.prepare<[number], { received: number }>(
        'SELECT received FROM messages WHERE sink = ? ORDER BY seq LIMIT 1',
      ),
      deadLetters: this.db.prepare<[], { n: number; b: number | null }>(
        'SELECT count(*) AS n, sum(size) AS b FROM dead_letters',
      ),
    };
  }

  private idOf(sink: string): number {
    let id = this.ids.get(sink);
    if (id === undefined) {
      const row = this.stmt.sink.get(sink);
      if (!row) throw new Error(`unknown sink ${sink}`);
      id = row.id;
      this.ids.set(sink, id);
    }
    return id;
  }

  read(sink: string, afterSeq: number, maxRecords: number, maxBytes: number): StoredRecord[] {
    return readBatch(this.db, this.stmt.read, this.idOf(sink), sink, afterSeq, maxRecords, maxBytes);
  }

  stats(sink: string): SinkStats {
    const row = this.stmt.sink.get(sink);
    if (!row) return { bytes: 0, count: 0, oldestReceivedAt: null };
    return {
      bytes: row.bytes,
      count: row.count,
      oldestReceivedAt: this.stmt.oldestReceived.get(row.id)?.received ?? null,
    };
  }

  deadLetterStats(): { count: number; bytes: number } {
    const r = this.stmt.deadLetters.get()!;
    return { count: r.n, bytes: r.b ?? 0 };
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
