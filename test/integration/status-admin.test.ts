/**
 * Admin actions and the device API on real gateway processes: dead letters
 * retried from the status API after the route was fixed (restart on the same
 * SQLite file), refused without the CSRF token; /api/devices searching,
 * paging, and showing a device's refused publish as its last error.
 */
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import type { DevicePage } from '../../gateway/src/observe/devices.js';
import type { StatusSnapshot } from '../../gateway/src/status/snapshot.js';
import { type GatewayProcess, startGateway, tempDir } from '../support/gateway-process.js';
import { until } from '../support/in-process.js';
import { readFileSink } from '../support/records.js';

const gws: GatewayProcess[] = [];
afterEach(async () => {
  for (const g of gws.splice(0)) await g.stop();
});

function api(gw: GatewayProcess) {
  const base = `http://127.0.0.1:${gw.statusPort}`;
  const auth = { authorization: `Bearer ${gw.token}` };
  return {
    get: async <T>(path: string): Promise<T> =>
      (await (await fetch(base + path, { headers: auth })).json()) as T,
    post: async (path: string, csrf?: string) =>
      fetch(base + path, { method: 'POST', headers: csrf ? { ...auth, 'x-csrf-token': csrf } : auth }),
    csrf: async () =>
      (await (await fetch(`${base}/api/session`, { headers: auth })).json()) as { csrfToken: string },
  };
}

function config(expr: string) {
  return {
    sinks: { out: { type: 'file', path: 'out', batch: { linger: 0 } } },
    routes: { scale: { from: 'm/+deviceId', decode: 'json', steps: [{ type: 'map', expr }], to: 'out' } },
  };
}

describe('status admin actions', () => {
  it('retries dead letters through the fixed route, only with the CSRF token', async () => {
    const dir = tempDir();
    const gw1 = await startGateway(config('{ "c": raw / 10 }'), { dataDir: dir });
    gws.push(gw1);
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw1.mqttPort}`, {
      clientId: 'dev',
      reconnectPeriod: 0,
    });
    await c.publishAsync('m/d1', '{"raw": 215}', { qos: 1 });
    await c.publishAsync('m/d1', '{"raw": "230"}', { qos: 1 });
    await c.endAsync();
    await until(async () => (await api(gw1).get<StatusSnapshot>('/api/status')).queue.deadLetters === 1);
    await gw1.stop();
    gws.splice(0);

    const gw2 = await startGateway(config('{ "c": $number(raw) / 10 }'), { dataDir: dir });
    gws.push(gw2);
    const a = api(gw2);
    expect((await a.post('/api/deadletters/retry')).status).toBe(403);
    expect((await a.post('/api/deadletters/retry', 'wrong')).status).toBe(403);
    expect((await api(gw2).get<StatusSnapshot>('/api/status')).queue.deadLetters).toBe(1);
    const { csrfToken } = await a.csrf();
    const res = await a.post('/api/deadletters/retry', csrfToken);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ retried: 1, queued: 1, filtered: 0, failed: 0, skipped: 0 });
    const out = await until(async () => {
      const r = await readFileSink(join(dir, 'out'));
      return r.length === 2 ? r : null;
    });
    expect(out.map((r) => r.payload)).toEqual([{ c: 21.5 }, { c: 23 }]);
    expect((await a.get<StatusSnapshot>('/api/status')).queue.deadLetters).toBe(0);
  });

  it('lists devices with search and paging, and a refused publish as the last error', async () => {
    const gw = await startGateway({
      sinks: { small: { type: 'file', queue: { maxBytes: 3000, whenFull: 'reject-new' } } },
      routes: { r: { from: 'd/#', to: 'small' } },
    });
    gws.push(gw);
    const a = api(gw);
    const url = `mqtt://127.0.0.1:${gw.mqttPort}`;
    const clients = await Promise.all(
      Array.from({ length: 120 }, (_, i) =>
        mqtt.connectAsync(url, { clientId: `sensor-${String(i).padStart(3, '0')}`, reconnectPeriod: 0 }),
      ),
    );
    await Promise.all(clients.slice(0, 10).map((c, i) => c.publishAsync(`d/${i}`, '{"v":1}', { qos: 1 })));
    const first = await a.get<DevicePage>('/api/devices?limit=50');
    expect([first.total, first.known, first.connected, first.devices.length]).toEqual([120, 120, 120, 50]);
    expect(first.devices[0]).toMatchObject({
      id: 'sensor-000',
      connected: true,
      messages: 1,
      lastError: null,
    });
    const third = await a.get<DevicePage>('/api/devices?limit=50&offset=100');
    expect(third.devices.map((d) => d.id)).toEqual(Array.from({ length: 20 }, (_, i) => `sensor-${100 + i}`));
    expect((await a.get<DevicePage>('/api/devices?q=SOR-11')).devices.map((d) => d.id)).toHaveLength(10);
    await Promise.all(clients.slice(60).map((c) => c.endAsync()));
    await until(async () => (await a.get<DevicePage>('/api/devices?connected=1')).total === 60);
    const gone = await a.get<DevicePage>('/api/devices?q=sensor-119');
    expect(gone.devices[0]).toMatchObject({ id: 'sensor-119', connected: false });

    // hold the sink so its queue fills, then the next publish is refused (reject-new)
    const { csrfToken } = await a.csrf();
    expect((await a.post('/api/sinks/small/pause', csrfToken)).status).toBe(200);
    const c = clients[0]!;
    for (let i = 0; i < 100 && c.connected; i++) {
      await Promise.race([
        c.publishAsync('d/0', JSON.stringify({ v: 'x'.repeat(200) }), { qos: 1 }).catch(() => undefined),
        new Promise((r) => setTimeout(r, 500)),
      ]);
      const d = (await a.get<DevicePage>('/api/devices?q=sensor-000')).devices[0]!;
      if (d.lastError) break;
    }
    const d = (await a.get<DevicePage>('/api/devices?q=sensor-000')).devices[0]!;
    expect(d.lastError).toBe('publish refused: queue_full');
    expect(d.messages).toBeGreaterThan(1);
    // force: a publish refused by the full queue is still in flight and would hold a clean end
    for (const x of clients.slice(0, 60)) x.end(true);
  });
});
