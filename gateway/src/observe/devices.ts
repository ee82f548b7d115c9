/**
 * Per-device tracking for the status page's device table: connected or not,
 * last seen, messages accepted, last error. Fed by the broker's aedes events
 * (connect, disconnect, client error) and by ingest outcomes.
 *
 * Bounded: at most `max` devices are remembered. Past that, the device seen
 * longest ago that is not connected is forgotten (counted in `forgotten`), so a
 * fleet of short-lived client ids cannot grow the gateway's memory.
 */
import type { Aedes, Client } from 'aedes';

export interface DeviceRecord {
  id: string;
  connected: boolean;
  /** ms since the epoch: last connect, disconnect, message or error */
  lastSeen: number;
  /** messages accepted (queued, or deliberately filtered) since the gateway started */
  messages: number;
  lastError: string | null;
  lastErrorAt: number | null;
}

export interface DevicePageQuery {
  /** case-insensitive substring of the id */
  q?: string;
  offset?: number;
  limit?: number;
  connectedOnly?: boolean;
}

export interface DevicePage {
  /** devices matching the query */
  total: number;
  /** all devices remembered / connected now */
  known: number;
  connected: number;
  forgotten: number;
  offset: number;
  devices: DeviceRecord[];
}

/** Connections open under this id: a takeover can report the old connection's close after the new connect. */
interface Entry extends DeviceRecord {
  conns: number;
}

export type AcceptOutcome = { accepted: true } | { accepted: false; reason: string };

export class DeviceTable {
  /** Map order is least recently seen first: every touch moves the device to the end. */
  private readonly devices = new Map<string, Entry>();
  private connectedCount = 0;
  forgotten = 0;

  constructor(
    readonly max = 10_000,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Subscribes to the broker's client events (call after the broker has started). */
  attach(aedes: Aedes): void {
    aedes.on('client', (c: Client) => this.connected(c.id));
    aedes.on('clientDisconnect', (c: Client) => this.disconnected(c.id));
    aedes.on('clientError', (c: Client, err: Error) => {
      if (c?.id) this.error(c.id, err.message);
    });
  }

  get size(): number {
    return this.devices.size;
  }

  connected(id: string): void {
    const d = this.touch(id);
    if (d.conns++ === 0) this.connectedCount++;
    d.connected = true;
  }

  disconnected(id: string): void {
    const d = this.devices.get(id);
    if (!d) return;
    this.touch(id);
    if (d.conns === 0) return;
    if (--d.conns === 0) {
      this.connectedCount--;
      d.connected = false;
    }
  }

  error(id: string, message: string): void {
    const d = this.touch(id);
    d.lastError = message;
    d.lastErrorAt = d.lastSeen;
  }

  /** One ingest outcome for a PUBLISH from `id`. */
  accepted(id: string, outcome: AcceptOutcome): void {
    if (!id) return;
    if (outcome.accepted) this.touch(id).messages++;
    else this.error(id, `publish refused: ${outcome.reason}`); // the broker's words for the same refusal
  }

  /** Watches an ingest promise without changing what it resolves to. */
  track<T extends AcceptOutcome>(id: string, outcome: Promise<T>): Promise<T> {
    outcome.then(
      (o) => this.accepted(id, o),
      (err: Error) => this.error(id, `publish failed: ${err.message}`),
    );
    return outcome;
  }

  get(id: string): DeviceRecord | undefined {
    const d = this.devices.get(id);
    return d && record(d);
  }

  /** Sorted by id; the search is a substring match, so the operator can type any part of an id. */
  page(query: DevicePageQuery = {}): DevicePage {
    const q = query.q?.trim().toLowerCase() ?? '';
    const limit = Math.min(500, Math.max(1, query.limit ?? 50));
    const all: Entry[] = [];
    for (const d of this.devices.values()) {
      if (query.connectedOnly && !d.connected) continue;
      if (q && !d.id.toLowerCase().includes(q)) continue;
      all.push(d);
    }
    all.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const offset = Math.max(0, Math.min(query.offset ?? 0, Math.max(0, all.length - 1)));
    return {
      total: all.length,
      known: this.devices.size,
      connected: this.connectedCount,
      forgotten: this.forgotten,
      offset,
      devices: all.slice(offset, offset + limit).map(record),
    };
  }

  private touch(id: string): Entry {
    const now = this.clock();
    let d = this.devices.get(id);
    if (d) this.devices.delete(id);
    else {
      d = { id, connected: false, conns: 0, lastSeen: now, messages: 0, lastError: null, lastErrorAt: null };
      if (this.devices.size >= this.max) this.evict();
    }
    d.lastSeen = now;
    this.devices.set(id, d);
    return d;
  }

  /** Forgets the least recently seen disconnected device, or, if every one is connected, the oldest. */
  private evict(): void {
    let victim: Entry | undefined;
    for (const d of this.devices.values()) {
      victim ??= d;
      if (!d.connected) {
        victim = d;
        break;
      }
    }
    if (!victim) return;
    this.devices.delete(victim.id);
    if (victim.connected) this.connectedCount--;
    this.forgotten++;
  }
}

function record(d: Entry): DeviceRecord {
  const { conns: _conns, ...r } = d;
  return r;
}
