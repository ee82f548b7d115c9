/** The status page's device table: bounded memory, takeover order, search and paging. */
import { describe, expect, it } from 'vitest';
import { DeviceTable } from '../../gateway/src/observe/devices.js';

function clock() {
  let t = 1_000;
  return { now: () => t, step: (ms = 1000) => (t += ms) };
}

describe('DeviceTable', () => {
  it('counts accepted messages and keeps the last refusal as the last error', () => {
    const c = clock();
    const d = new DeviceTable(10, c.now);
    d.connected('a');
    d.accepted('a', { accepted: true });
    d.accepted('a', { accepted: true });
    c.step();
    d.accepted('a', { accepted: false, reason: 'queue_full' });
    expect(d.get('a')).toEqual({
      id: 'a',
      connected: true,
      lastSeen: 2_000,
      messages: 2,
      lastError: 'publish refused: queue_full',
      lastErrorAt: 2_000,
    });
  });

  it('stays connected when a takeover reports the old connection closing after the new one opened', () => {
    const d = new DeviceTable();
    d.connected('a');
    d.connected('a');
    d.disconnected('a');
    expect(d.get('a')?.connected).toBe(true);
    expect(d.page().connected).toBe(1);
    d.disconnected('a');
    expect(d.get('a')?.connected).toBe(false);
    expect(d.page().connected).toBe(0);
  });

  it('forgets the disconnected device seen longest ago when full, never a connected one first', () => {
    const c = clock();
    const d = new DeviceTable(3, c.now);
    d.connected('old-connected');
    c.step();
    d.connected('gone');
    d.disconnected('gone');
    c.step();
    d.connected('b');
    c.step();
    d.connected('new');
    expect(d.size).toBe(3);
    expect(d.get('gone')).toBeUndefined();
    expect(d.get('old-connected')?.connected).toBe(true);
    expect(d.forgotten).toBe(1);
    // all connected: the least recently seen goes, and the connected count follows
    d.connected('newer');
    expect(d.size).toBe(3);
    expect(d.get('old-connected')).toBeUndefined();
    expect(d.page().connected).toBe(3);
  });

  it('stays within its bound under many short-lived client ids', () => {
    const d = new DeviceTable(100);
    for (let i = 0; i < 5000; i++) {
      d.connected(`c${i}`);
      d.accepted(`c${i}`, { accepted: true });
      d.disconnected(`c${i}`);
    }
    expect(d.size).toBe(100);
    expect(d.forgotten).toBe(4900);
    expect(d.get('c4999')?.messages).toBe(1);
  });

  it('searches by any part of the id, sorts by id and pages', () => {
    const d = new DeviceTable();
    for (let i = 999; i >= 0; i--) d.connected(`dev-${String(i).padStart(4, '0')}`);
    d.disconnected('dev-0005');
    const p1 = d.page({ limit: 50 });
    expect(p1.total).toBe(1000);
    expect(p1.devices.map((x) => x.id).slice(0, 2)).toEqual(['dev-0000', 'dev-0001']);
    const last = d.page({ offset: 990, limit: 50 });
    expect(last.devices).toHaveLength(10);
    expect(d.page({ q: 'V-0999' }).devices.map((x) => x.id)).toEqual(['dev-0999']);
    expect(d.page({ q: '000' }).total).toBe(10);
    expect(d.page({ connectedOnly: true }).total).toBe(999);
    // an offset past the end lands on the last row instead of an empty page
    expect(d.page({ offset: 5000 }).devices.map((x) => x.id)).toEqual(['dev-0999']);
  });

  it('records the outcome of an ingest promise without changing it', async () => {
    const d = new DeviceTable();
    const o = await d.track('a', Promise.resolve({ accepted: true as const }));
    expect(o).toEqual({ accepted: true });
    await expect(d.track('b', Promise.reject(new Error('store closed')))).rejects.toThrow('store closed');
    await new Promise((r) => setImmediate(r));
    expect(d.get('a')?.messages).toBe(1);
    expect(d.get('b')?.lastError).toBe('publish failed: store closed');
  });
});
