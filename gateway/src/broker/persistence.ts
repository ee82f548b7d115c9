/**
 * aedes persistence on SQLite: retained messages, subscriptions, offline and
 * in-flight QoS 1/2 packets, and wills survive a gateway restart. It passes
 * the shared suite `aedes-persistence/abstract` (test/integration/broker-persistence-abstract).
 *
 * Where it lives and why: the same file as the queue (dataDir/tidegate.db), in
 * its own `mqtt_*` tables, on its own better-sqlite3 connection on the main
 * thread with synchronous=NORMAL. Session state is small rows written one at a
 * time; a NORMAL commit in WAL mode is a write() without fsync (tens of µs), so
 * the event loop does not wait on the disk. Those frames reach the platter with
 * the queue writer's next FULL commit (the WAL is one sequential log). Routing
 * these writes through the queue worker would add a thread hop to every
 * subscription and delivery and couple session state to the queue's group
 * commit for no durability gain: the durability promise (PUBACK after commit)
 * is the queue's, not this store's. The cost: while the queue writer holds the
 * write lock (one group commit) a session write waits for it; busy_timeout
 * bounds that wait.
 *
 * Reads on the hot path (which subscriptions match a topic) use an in-memory
 * trie rebuilt from the table at setup, as aedes' own memory persistence does.
 */
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import { deserialize, serialize } from 'node:v8';
import Database from 'better-sqlite3';
import { literalPrefix, topicMatches } from './topics.js';

type Packet = Record<string, unknown> & { messageId?: number; brokerId?: string; brokerCounter?: number };
interface ClientRef {
  id: string;
  clean?: boolean;
}
interface SubRecord {
  qos: number;
  rh?: number;
  rap?: boolean;
  nl?: boolean;
  subscriptionIdentifier?: number;
}
type Sub = SubRecord & { topic: string };
interface BrokerRef {
  id: string;
}
interface Trie {
  subscriptionsCount: number;
  add(topic: string, val: Sub & { clientId: string }): void;
  remove(topic: string, val: { clientId: string; topic: string }): void;
  match(topic: string): Array<Sub & { clientId: string }>;
}

// aedes-persistence's own trie (qlobber), resolved through aedes-persistence, whose dependency it is,
// so subscriptionsByTopic returns exactly what the reference implementation returns.
const requireFromPersistence = createRequire(createRequire(import.meta.url).resolve('aedes-persistence'));
const QlobberSub = requireFromPersistence('qlobber/aedes/qlobber-sub') as new (opts: object) => Trie;
const PacketClass = requireFromPersistence('aedes-packet') as new (p: object, broker?: object) => Packet;
const QLOBBER = { wildcard_one: '+', wildcard_some: '#', separator: '/' };

const SCHEMA = `
CREATE TABLE IF NOT EXISTS mqtt_retained (topic TEXT PRIMARY KEY, packet BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS mqtt_subscriptions (
  client_id TEXT NOT NULL, topic TEXT NOT NULL, record BLOB NOT NULL,
  durable INTEGER NOT NULL, PRIMARY KEY (client_id, topic));
CREATE TABLE IF NOT EXISTS mqtt_outgoing (
  id INTEGER PRIMARY KEY AUTOINCREMENT, client_id TEXT NOT NULL, broker_id TEXT,
  broker_counter INTEGER, message_id INTEGER, packet BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS mqtt_outgoing_client ON mqtt_outgoing(client_id, id);
CREATE INDEX IF NOT EXISTS mqtt_outgoing_counter ON mqtt_outgoing(client_id, broker_id, broker_counter);
CREATE INDEX IF NOT EXISTS mqtt_outgoing_mid ON mqtt_outgoing(client_id, message_id);
CREATE TABLE IF NOT EXISTS mqtt_incoming (
  client_id TEXT NOT NULL, message_id INTEGER NOT NULL, packet BLOB NOT NULL,
  PRIMARY KEY (client_id, message_id));
CREATE TABLE IF NOT EXISTS mqtt_wills (client_id TEXT PRIMARY KEY, broker_id TEXT, packet BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS mqtt_pending (id INTEGER PRIMARY KEY AUTOINCREMENT, packet BLOB NOT NULL);
`;

export interface SqlitePersistenceOptions {
  file: string;
  /** most queued packets per offline client; the oldest are dropped beyond it (counted) */
  maxQueuedPerClient: number;
  onDropped?: (clientId: string, n: number) => void;
  /** false for a filter the broker refused: aedes 1.2 would store every filter of the SUBSCRIBE */
  allowSubscription?: (client: object, topic: string) => boolean;
  /**
   * [MQTT-3.3.1-1]: a PUBLISH the broker re-sends (one that already had a packet id when it was
   * stored) is streamed with DUP=1. aedes 1.2 re-sends it as stored, with DUP=0. Off by default:
   * the aedes-persistence suite expects packets back exactly as they were stored.
   */
  dupOnResend?: boolean;
}

const enc = (v: unknown): Buffer => serialize(v);
/** The packet's data without the callbacks aedes hangs on it (`writeCallback`), which v8 cannot serialize. */
const wire = (p: object): Record<string, unknown> =>
  Object.fromEntries(Object.entries(p).filter(([, v]) => typeof v !== 'function'));
const dec = <T>(b: Buffer): T => deserialize(b) as T;

/**
 * What each client's offline queue gets: one copy per client, at the highest QoS of its matching
 * subscriptions [MQTT-3.3.5-1], never above it [MQTT-3.8.4-6]. aedes passes one entry per matching
 * subscription and the packet at its published QoS, so a client with `a/#` and `a/+` got the message
 * twice, and a QoS 1 subscription got a QoS 2 message at QoS 2 (test/conformance/session.test.ts).
 */
function perClient(subs: Array<{ clientId: string; qos?: number }>, packet: Packet): Array<[string, Packet]> {
  // a subscription without a QoS (only in aedes-persistence's suite) takes the packet as it is
  const at = (qos = Number.POSITIVE_INFINITY): Packet =>
    qos >= Number(packet.qos) ? packet : { ...packet, qos };
  if (subs.length === 1) return [[subs[0]!.clientId, at(subs[0]!.qos)]];
  const best = new Map<string, number>();
  for (const s of subs)
    best.set(s.clientId, Math.max(best.get(s.clientId) ?? -1, s.qos ?? Number.POSITIVE_INFINITY));
  return [...best].map(([clientId, qos]) => [clientId, at(qos)]);
}

function escapeGlob(s: string): string {
  return s.replace(/[*?[]/g, (c) => `[${c}]`);
}

export class SqlitePersistence {
  private db: Database.Database | null = null;
  private broker_: BrokerRef | null = null;
  private trie: Trie = new QlobberSub(QLOBBER);
  private readonly subs = new Map<string, Map<string, SubRecord>>();
  private readonly queued = new Map<string, number>();
  private readonly pending = new WeakMap<object, number>();
  private enqueueMany: ((copies: Array<[string, Packet]>, pendingId?: number) => void) | null = null;
  private stmts: ReturnType<SqlitePersistence['prepare']> | null = null;

  constructor(private readonly opts: SqlitePersistenceOptions) {}

  get broker(): BrokerRef | null {
    return this.broker_;
  }

  async setup(broker: BrokerRef): Promise<void> {
    this.broker_ = broker;
    if (this.db) return;
    const db = new Database(this.opts.file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    db.exec(SCHEMA);
    // [MQTT-3.1.2-6]: a clean session ends with its network connection, which a restart ended
    db.prepare('DELETE FROM mqtt_subscriptions WHERE durable = 0').run();
    this.db = db;
    this.stmts = this.prepare(db);
    for (const row of db.prepare('SELECT client_id, topic, record FROM mqtt_subscriptions').iterate()) {
      const r = row as { client_id: string; topic: string; record: Buffer };
      this.remember(r.client_id, r.topic, dec<SubRecord>(r.record));
    }
    const counts = db.prepare('SELECT client_id, COUNT(*) AS n FROM mqtt_outgoing GROUP BY client_id').all();
    for (const c of counts as Array<{ client_id: string; n: number }>) this.queued.set(c.client_id, c.n);
    this.replayPending(broker);
  }

  /**
   * aedes sends a QoS 1 PUBACK *before* it stores a retained message or queues the
   * message for offline sessions. So the broker journals such a PUBLISH here before the
   * queue commit (whose fsync then covers this row too) and settles it in the transaction
   * that queues it for offline sessions (or when it is refused). A row left by a crash in
   * between is replayed at start: retained stored, offline persistent sessions served once.
   */
  journal(packet: { topic: string; payload: Buffer; qos: number; retain: boolean }): number | null {
    if (!this.db || (!packet.retain && this.trie.match(packet.topic).length === 0)) return null;
    const plain = {
      cmd: 'publish',
      topic: packet.topic,
      payload: packet.payload,
      qos: packet.qos,
      retain: packet.retain,
    };
    const id = Number(this.s.putPending.run(enc(plain)).lastInsertRowid);
    this.pending.set(packet.payload, id);
    return id;
  }

  /** The publish was refused (or aedes has published it: a no-op when outgoingEnqueueCombi settled it). */
  settle(payload: unknown): void {
    if (!this.db) return;
    const id = this.takePending(payload);
    if (id !== undefined) this.s.delPending.run(id);
  }

  private takePending(payload: unknown): number | undefined {
    if (!(payload instanceof Uint8Array)) return undefined;
    const id = this.pending.get(payload);
    if (id !== undefined) this.pending.delete(payload);
    return id;
  }

  private replayPending(broker: BrokerRef): void {
    const rows = this.s.allPending.all() as Array<{ id: number; packet: Buffer }>;
    // one transaction per row: a crash during the replay must not queue a message twice
    const replay = this.db!.transaction((r: { id: number; packet: Buffer }) => {
      const p = new PacketClass(dec<Packet>(r.packet), broker);
      if (p.retain) this.s.putRetained.run(String(p.topic), enc({ ...p }));
      for (const [c, copy] of perClient(this.trie.match(String(p.topic)), p)) this.enqueueOne(c, copy);
      this.s.delPending.run(r.id);
    });
    for (const r of rows) replay(r);
  }

  private prepare(db: Database.Database) {
    return {
      putRetained: db.prepare('INSERT OR REPLACE INTO mqtt_retained (topic, packet) VALUES (?, ?)'),
      delRetained: db.prepare('DELETE FROM mqtt_retained WHERE topic = ?'),
      retainedAll: db.prepare('SELECT topic, packet FROM mqtt_retained ORDER BY topic'),
      retainedGlob: db.prepare('SELECT topic, packet FROM mqtt_retained WHERE topic GLOB ? ORDER BY topic'),
      putSub: db.prepare(
        'INSERT OR REPLACE INTO mqtt_subscriptions (client_id, topic, record, durable) VALUES (?, ?, ?, ?)',
      ),
      delSub: db.prepare('DELETE FROM mqtt_subscriptions WHERE client_id = ? AND topic = ?'),
      delSubs: db.prepare('DELETE FROM mqtt_subscriptions WHERE client_id = ?'),
      enqueue: db.prepare(
        'INSERT INTO mqtt_outgoing (client_id, broker_id, broker_counter, message_id, packet) VALUES (?, ?, ?, ?, ?)',
      ),
      trim: db.prepare(
        'DELETE FROM mqtt_outgoing WHERE id IN (SELECT id FROM mqtt_outgoing WHERE client_id = ? ORDER BY id LIMIT ?)',
      ),
      byCounter: db.prepare(
        'SELECT id, packet FROM mqtt_outgoing WHERE client_id = ? AND broker_id = ? AND broker_counter = ? ORDER BY id LIMIT 1',
      ),
      byMidOther: db.prepare(
        'SELECT id FROM mqtt_outgoing WHERE client_id = ? AND broker_id IS NOT ? AND message_id = ? ORDER BY id LIMIT 1',
      ),
      byMid: db.prepare(
        'SELECT id, packet, message_id FROM mqtt_outgoing WHERE client_id = ? AND message_id = ? ORDER BY id LIMIT 1',
      ),
      setOutgoing: db.prepare(
        'UPDATE mqtt_outgoing SET broker_id = ?, broker_counter = ?, message_id = ?, packet = ? WHERE id = ?',
      ),
      delOutgoing: db.prepare('DELETE FROM mqtt_outgoing WHERE id = ?'),
      page: db.prepare(
        'SELECT id, packet, message_id FROM mqtt_outgoing WHERE client_id = ? AND id > ? AND id <= ? ORDER BY id LIMIT 64',
      ),
      maxId: db.prepare('SELECT COALESCE(MAX(id), 0) AS m FROM mqtt_outgoing WHERE client_id = ?'),
      putIncoming: db.prepare(
        'INSERT OR REPLACE INTO mqtt_incoming (client_id, message_id, packet) VALUES (?, ?, ?)',
      ),
      getIncoming: db.prepare('SELECT packet FROM mqtt_incoming WHERE client_id = ? AND message_id = ?'),
      delIncoming: db.prepare('DELETE FROM mqtt_incoming WHERE client_id = ? AND message_id = ?'),
      cleanIncoming: db.prepare('DELETE FROM mqtt_incoming WHERE client_id = ?'),
      putWill: db.prepare(
        'INSERT OR REPLACE INTO mqtt_wills (client_id, broker_id, packet) VALUES (?, ?, ?)',
      ),
      getWill: db.prepare('SELECT packet FROM mqtt_wills WHERE client_id = ?'),
      delWill: db.prepare('DELETE FROM mqtt_wills WHERE client_id = ?'),
      allWills: db.prepare('SELECT broker_id, packet FROM mqtt_wills ORDER BY client_id'),
      putPending: db.prepare('INSERT INTO mqtt_pending (packet) VALUES (?)'),
      delPending: db.prepare('DELETE FROM mqtt_pending WHERE id = ?'),
      allPending: db.prepare('SELECT id, packet FROM mqtt_pending ORDER BY id'),
    };
  }

  private get s(): NonNullable<SqlitePersistence['stmts']> {
    if (!this.stmts) throw new Error('persistence is not set up (or already destroyed)');
    return this.stmts;
  }

  async storeRetained(packet: Packet): Promise<void> {
    const topic = String(packet.topic);
    const payload = packet.payload as Buffer | string;
    if (payload.length === 0) this.s.delRetained.run(topic);
    else this.s.putRetained.run(topic, enc({ ...packet }));
  }

  createRetainedStream(pattern: string): Readable {
    return this.createRetainedStreamCombi([pattern]);
  }

  createRetainedStreamCombi(patterns: string[]): Readable {
    const out: Packet[] = [];
    const seen = new Set<string>();
    for (const pattern of patterns) {
      const prefix = literalPrefix(pattern);
      // the literal prefix narrows the scan to an index range; the matcher decides
      const rows = (
        prefix ? this.s.retainedGlob.all(`${escapeGlob(prefix)}*`) : this.s.retainedAll.all()
      ) as Array<{ topic: string; packet: Buffer }>;
      for (const r of rows) {
        if (seen.has(r.topic) || !topicMatches(pattern, r.topic)) continue;
        seen.add(r.topic);
        out.push(dec<Packet>(r.packet));
      }
    }
    return Readable.from(out);
  }

  private remember(clientId: string, topic: string, record: SubRecord): void {
    let stored = this.subs.get(clientId);
    if (!stored) {
      stored = new Map();
      this.subs.set(clientId, stored);
    }
    const before = stored.get(topic);
    if (record.qos > 0)
      this.trie.add(topic, {
        clientId,
        topic,
        qos: record.qos,
        rh: record.rh,
        rap: record.rap,
        nl: record.nl,
      });
    else if (before && before.qos > 0) this.trie.remove(topic, { clientId, topic });
    stored.set(topic, record);
  }

  async addSubscriptions(client: ClientRef, subs: Sub[]): Promise<void> {
    const durable = client.clean === true ? 0 : 1;
    const tx = this.db!.transaction(() => {
      for (const sub of subs) {
        if (this.opts.allowSubscription && !this.opts.allowSubscription(client, sub.topic)) continue;
        const record: SubRecord = { qos: sub.qos, rh: sub.rh, rap: sub.rap, nl: sub.nl };
        if (sub.subscriptionIdentifier !== undefined)
          record.subscriptionIdentifier = sub.subscriptionIdentifier;
        this.s.putSub.run(client.id, sub.topic, enc(record), durable);
        this.remember(client.id, sub.topic, record);
      }
    });
    tx();
  }

  async removeSubscriptions(client: ClientRef, topics: string[]): Promise<void> {
    const stored = this.subs.get(client.id);
    if (!stored) return;
    const tx = this.db!.transaction(() => {
      for (const topic of topics) {
        const sub = stored.get(topic);
        if (!sub) continue;
        if (sub.qos > 0) this.trie.remove(topic, { clientId: client.id, topic });
        stored.delete(topic);
        this.s.delSub.run(client.id, topic);
      }
    });
    tx();
    if (stored.size === 0) this.subs.delete(client.id);
  }

  async subscriptionsByClient(client: ClientRef): Promise<Sub[]> {
    const stored = this.subs.get(client.id);
    return stored ? [...stored].map(([topic, r]) => ({ topic, ...r })) : [];
  }

  async countOffline(): Promise<{ subsCount: number; clientsCount: number }> {
    return { subsCount: this.trie.subscriptionsCount, clientsCount: this.subs.size };
  }

  async subscriptionsByTopic(topic: string): Promise<Array<Sub & { clientId: string }>> {
    return this.trie.match(topic);
  }

  async cleanSubscriptions(client: ClientRef): Promise<void> {
    const stored = this.subs.get(client.id);
    if (!stored) return;
    for (const [topic, sub] of stored)
      if (sub.qos > 0) this.trie.remove(topic, { clientId: client.id, topic });
    this.subs.delete(client.id);
    this.s.delSubs.run(client.id);
  }

  private enqueueOne(clientId: string, packet: Packet): void {
    const p = new PacketClass(packet);
    this.s.enqueue.run(
      clientId,
      p.brokerId ?? null,
      p.brokerCounter ?? null,
      p.messageId ?? null,
      enc({ ...p }),
    );
    const n = (this.queued.get(clientId) ?? 0) + 1;
    const over = n - this.opts.maxQueuedPerClient;
    if (over > 0) {
      this.s.trim.run(clientId, over);
      this.opts.onDropped?.(clientId, over);
    }
    this.queued.set(clientId, Math.min(n, this.opts.maxQueuedPerClient));
  }

  async outgoingEnqueue(sub: { clientId: string }, packet: Packet): Promise<void> {
    this.enqueueOne(sub.clientId, packet);
  }

  async outgoingEnqueueCombi(subs: Array<{ clientId: string; qos?: number }>, packet: Packet): Promise<void> {
    // aedes calls this for every publish, mostly with no offline subscriber: no transaction then,
    // and the transaction wrapper is built once (better-sqlite3 prepares BEGIN/COMMIT per wrapper)
    // The journal row of this publish (see journal()) is settled in the same transaction as the
    // enqueue: aedes calls this for every QoS > 0 publish, after storeRetained, so the row is gone
    // exactly when the offline queues hold the message. Settling later (in the `published` hook)
    // left a window in which a kill -9 kept both, and the replay queued it a second time
    // (broker-restart.test.ts, 2 of 20 runs under CPU load).
    const pendingId = this.takePending(packet.payload);
    if (subs.length === 0) {
      if (pendingId !== undefined) this.s.delPending.run(pendingId);
      return;
    }
    const copies = perClient(subs, packet);
    if (copies.length === 1 && pendingId === undefined) {
      this.enqueueOne(copies[0]![0], copies[0]![1]);
      return;
    }
    this.enqueueMany ??= this.db!.transaction((list: Array<[string, Packet]>, id: number | undefined) => {
      for (const [clientId, p] of list) this.enqueueOne(clientId, p);
      if (id !== undefined) this.s.delPending.run(id);
    });
    this.enqueueMany(copies, pendingId);
  }

  async outgoingUpdate(client: ClientRef, packet: Packet): Promise<void> {
    const s = this.s;
    const mid = packet.messageId ?? null;
    const same = s.byCounter.get(client.id, packet.brokerId ?? null, packet.brokerCounter ?? null) as
      | { id: number; packet: Buffer }
      | undefined;
    if (same) {
      const stored = dec<Packet>(same.packet);
      stored.messageId = packet.messageId;
      s.setOutgoing.run(packet.brokerId ?? null, packet.brokerCounter ?? null, mid, enc(stored), same.id);
      return;
    }
    // a PUBREL replaces the PUBLISH it follows (same packet identifier, no broker counter).
    // On a reconnect aedes re-sends a stored PUBREL as a QoSPacket carrying a writeCallback:
    // serializing that threw, the client got an error and was closed on every reconnect, so a
    // session left between PUBREC and PUBCOMP could never resume ([MQTT-4.4.0-1]).
    const other = s.byMidOther.get(client.id, packet.brokerId ?? null, mid) as { id: number } | undefined;
    if (!other) throw new Error('no such packet');
    s.setOutgoing.run(
      packet.brokerId ?? null,
      packet.brokerCounter ?? null,
      mid,
      enc(wire(packet)),
      other.id,
    );
  }

  async outgoingClearMessageId(client: ClientRef, packet: Packet): Promise<Packet | undefined> {
    const mid = (packet as { messageId?: number } | null)?.messageId;
    if (mid === undefined) return undefined;
    const row = this.s.byMid.get(client.id, mid) as
      | { id: number; packet: Buffer; message_id: number }
      | undefined;
    if (!row) return undefined;
    this.s.delOutgoing.run(row.id);
    const n = this.queued.get(client.id) ?? 1;
    if (n <= 1) this.queued.delete(client.id);
    else this.queued.set(client.id, n - 1);
    return this.withMid(row);
  }

  private withMid(row: { packet: Buffer; message_id: number | null }): Packet {
    const p = dec<Packet>(row.packet);
    if (row.message_id !== null || 'messageId' in p) p.messageId = row.message_id ?? undefined;
    return p;
  }

  /** A snapshot of the client's queue, read in pages so a long offline queue is never all in memory. */
  outgoingStream(client: ClientRef): Readable {
    const s = this.s;
    const maxId = (s.maxId.get(client.id) as { m: number }).m;
    const self = this;
    async function* pages(): AsyncGenerator<Packet> {
      let last = 0;
      for (;;) {
        if (!self.db) return;
        const rows = s.page.all(client.id, last, maxId) as Array<{
          id: number;
          packet: Buffer;
          message_id: number | null;
        }>;
        if (rows.length === 0) return;
        for (const r of rows) {
          const p = self.withMid(r);
          // a packet id is stored when aedes sends the PUBLISH; rows queued offline have none
          if (self.opts.dupOnResend && p.cmd === 'publish' && r.message_id !== null) p.dup = true;
          yield p;
        }
        last = rows[rows.length - 1]!.id;
      }
    }
    return Readable.from(pages());
  }

  async incomingStorePacket(client: ClientRef, packet: Packet): Promise<void> {
    const p = new PacketClass(packet);
    p.messageId = packet.messageId;
    this.s.putIncoming.run(client.id, packet.messageId, enc({ ...p }));
  }

  async incomingGetPacket(client: ClientRef, packet: { messageId?: number }): Promise<Packet> {
    const row = this.s.getIncoming.get(client.id, packet.messageId) as { packet: Buffer } | undefined;
    if (!row) throw new Error('no such packet');
    return dec<Packet>(row.packet);
  }

  async incomingDelPacket(client: ClientRef, packet: { messageId?: number }): Promise<void> {
    const r = this.s.delIncoming.run(client.id, packet.messageId);
    if (r.changes === 0) throw new Error('no such packet');
  }

  async cleanIncoming(client: ClientRef): Promise<void> {
    this.s.cleanIncoming.run(client.id);
  }

  async putWill(client: ClientRef, packet: Packet): Promise<void> {
    // aedes-persistence's contract: the will is stamped with the broker and client it belongs to
    packet.brokerId = this.broker_?.id;
    packet.clientId = client.id;
    this.s.putWill.run(client.id, packet.brokerId ?? null, enc({ ...packet }));
  }

  async getWill(client: ClientRef): Promise<Packet | undefined> {
    const row = this.s.getWill.get(client.id) as { packet: Buffer } | undefined;
    return row ? dec<Packet>(row.packet) : undefined;
  }

  async delWill(client: ClientRef): Promise<Packet | undefined> {
    const will = await this.getWill(client);
    this.s.delWill.run(client.id);
    return will;
  }

  streamWill(brokers: Record<string, unknown> = {}): Readable {
    const rows = this.s.allWills.all() as Array<{ broker_id: string | null; packet: Buffer }>;
    return Readable.from(rows.filter((r) => !brokers[r.broker_id ?? '']).map((r) => dec<Packet>(r.packet)));
  }

  getClientList(topic: string): Readable {
    const ids: string[] = [];
    for (const [clientId, topics] of this.subs) if (topics.has(topic)) ids.push(clientId);
    return Readable.from(ids);
  }

  /** Closes the connection. Safe to call twice. */
  async destroy(): Promise<void> {
    const db = this.db;
    this.db = null;
    this.stmts = null;
    db?.close();
  }
}
