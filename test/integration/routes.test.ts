/**
 * Routes through the real broker: JSON and CBOR devices, routes that decode,
 * filter and reshape, fanning out to two file sinks whose records are compared
 * exactly; a bad payload dead-lettered with its reason; broken route configs
 * refused with their paths.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { decode as cborDecode, encode as cborEncode } from 'cbor-x';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../gateway/src/app.js';
import { ConfigError, parseConfig } from '../../gateway/src/config/load.js';
import { startInProcess, until } from '../support/in-process.js';
import { readFileSink } from '../support/records.js';

let gw: Gateway;
beforeAll(async () => {
  gw = await startInProcess({
    gatewayId: 'gw-r',
    sinks: {
      hot: { type: 'file', path: 'hot', batch: { linger: 0 } },
      all: { type: 'file', path: 'all', batch: { linger: 0 } },
      rest: { type: 'file', path: 'rest', batch: { linger: 0 } },
    },
    routes: {
      hot: {
        from: 'devices/+deviceId/telemetry',
        decode: 'auto',
        where: 't > 30',
        steps: [
          { type: 'rename', fields: { t: 'temperature' } },
          { type: 'drop', fields: ['debug'] },
          { type: 'enrich', gatewayId: 'gateway', deviceId: 'device' },
        ],
        encode: 'json',
        to: 'hot',
      },
      all: {
        from: ['devices/+deviceId/telemetry'],
        decode: 'auto',
        steps: [
          { type: 'set', fields: { 'meta.site': 'north' } },
          { type: 'encode', format: 'cbor' },
        ],
        to: 'all',
      },
      rest: { unrouted: true, to: 'rest' },
    },
  });
});
afterAll(async () => {
  await gw?.stop();
});

describe('routes and transforms through the broker', () => {
  it('decodes JSON and CBOR, filters, reshapes, and fans out to two sinks with exactly the expected records', async () => {
    const j = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.broker.port}`, {
      clientId: 'json-1',
      reconnectPeriod: 0,
    });
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.broker.port}`, {
      clientId: 'cbor-1',
      reconnectPeriod: 0,
    });
    await j.publishAsync('devices/json-1/telemetry', JSON.stringify({ t: 35, debug: 'x' }), { qos: 1 });
    await j.publishAsync('devices/json-1/telemetry', JSON.stringify({ t: 20, debug: 'y' }), { qos: 1 });
    await c.publishAsync('devices/cbor-1/telemetry', Buffer.from(cborEncode({ t: 40.5 })), { qos: 1 });
    await j.endAsync();
    await c.endAsync();
    const dir = gw.config.dataDir;
    const hot = await until(async () => {
      const r = await readFileSink(join(dir, 'hot'));
      return r.length >= 2 ? r : null;
    });
    expect(
      hot.map((r) => ({
        deviceId: r.deviceId,
        topic: r.topic,
        contentType: r.contentType,
        payload: r.payload,
      })),
    ).toEqual([
      {
        deviceId: 'json-1',
        topic: 'devices/json-1/telemetry',
        contentType: 'application/json',
        payload: { temperature: 35, gateway: 'gw-r', device: 'json-1' },
      },
      {
        deviceId: 'cbor-1',
        topic: 'devices/cbor-1/telemetry',
        contentType: 'application/json',
        payload: { temperature: 40.5, gateway: 'gw-r', device: 'cbor-1' },
      },
    ]);
    const all = await until(async () => {
      const r = await readFileSink(join(dir, 'all'));
      return r.length >= 3 ? r : null;
    });
    expect(
      all.map((r) => [r.deviceId, r.contentType, cborDecode(Buffer.from(r.payloadBase64!, 'base64'))]),
    ).toEqual([
      ['json-1', 'application/cbor', { t: 35, debug: 'x', meta: { site: 'north' } }],
      ['json-1', 'application/cbor', { t: 20, debug: 'y', meta: { site: 'north' } }],
      ['cbor-1', 'application/cbor', { t: 40.5, meta: { site: 'north' } }],
    ]);
    const snap = await gw.snapshot();
    expect(snap.sinks.find((s) => s.name === 'hot')!.dropped).toEqual({ filtered: 1 });
    expect(snap.routes.find((r) => r.name === 'hot')).toMatchObject({
      matched: 3,
      passed: 2,
      filtered: 1,
      failed: 0,
    });
  });

  it('dead-letters an undecodable payload with the reason, topic and device, and goes on', async () => {
    // a client id unlike the topic's device: the dead letter must name the device as the records do
    const d = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.broker.port}`, {
      clientId: 'client-of-bad-1',
      reconnectPeriod: 0,
    });
    await d.publishAsync('devices/bad-1/telemetry', '{"t": 3', { qos: 1 });
    await d.publishAsync('devices/bad-1/telemetry', JSON.stringify({ t: 99 }), { qos: 1 });
    await d.endAsync();
    await until(async () =>
      (await readFileSink(join(gw.config.dataDir, 'hot'))).some((r) => r.deviceId === 'bad-1'),
    );
    const db = new Database(join(gw.config.dataDir, 'tidegate.db'), { readonly: true });
    const rows = db
      .prepare("SELECT reason, stage, route, device, topic FROM dead_letters WHERE device = 'bad-1'")
      .all();
    db.close();
    expect(rows).toHaveLength(2); // both routes refuse it
    expect(rows[0]).toMatchObject({ stage: 'decode', device: 'bad-1', topic: 'devices/bad-1/telemetry' });
    expect((rows[0] as { reason: string }).reason).toMatch(/^invalid JSON/);
    const snap = await gw.snapshot();
    expect(snap.sinks.find((s) => s.name === 'hot')!.dropped.dead_lettered).toBe(1);
  });
});

describe('catch-all route', () => {
  it('takes only the messages no other route matches, as they came', async () => {
    const d = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.broker.port}`, {
      clientId: 'misc-1',
      reconnectPeriod: 0,
    });
    // the routed one first: had it reached the catch-all, it would come before misc/1 in its sink
    await d.publishAsync('devices/misc-1/telemetry', JSON.stringify({ t: 1 }), { qos: 1 });
    await d.publishAsync('misc/1', 'hello', { qos: 1 });
    await d.endAsync();
    const rest = await until(async () => {
      const r = await readFileSink(join(gw.config.dataDir, 'rest'));
      return r.length > 0 ? r : null;
    });
    expect(
      rest.map((r) => [r.route, r.deviceId, r.topic, Buffer.from(r.payloadBase64!, 'base64').toString()]),
    ).toEqual([['rest', 'misc-1', 'misc/1', 'hello']]);
  });
});

describe('route config errors', () => {
  function problems(routes: unknown): string[] {
    try {
      parseConfig({ sinks: { s: { type: 'file' } }, routes }, 't', {});
    } catch (e) {
      if (e instanceof ConfigError) return e.problems;
      throw e;
    }
    return [];
  }
  it('refuses a broken condition, an unknown step, a route to a missing sink and steps on raw payloads, with paths', () => {
    const p = problems({
      r1: {
        from: '#',
        decode: 'json',
        steps: [
          { type: 'set', fields: {} },
          { type: 'filter', when: 't >> 3' },
        ],
        to: 's',
      },
      r2: { from: '#', decode: 'json', steps: [{ type: 'teleport' }], to: 's' },
      r3: { from: '#', to: 'nowhere' },
      r4: { from: 'a/#/b', steps: [{ type: 'drop', fields: ['x'] }], to: 's' },
    });
    expect(p).toContain(
      'routes.r1.steps.1.when: invalid expression "t >> 3": The symbol ">" cannot be used as a unary operator (at character 4)',
    );
    expect(p.some((x) => x.startsWith('routes.r2.steps.0.type: unknown value "teleport"'))).toBe(true);
    expect(p.some((x) => x.startsWith('routes.r4.from: "#" must be the last level'))).toBe(true);
    expect(p).toContain(
      'routes.r4.decode: steps and where need a decoded payload: set decode to json, cbor or auto',
    );
    expect(problems({ r5: { to: 's' }, r6: { from: '#', unrouted: true, to: 's' } })).toEqual([
      'routes.r5.from: give from (or unrouted: true)',
      'routes.r6.from: a catch-all route (unrouted: true) has no from',
    ]);
    expect(problems({ r3: { from: '#', to: 'nowhere' } })).toEqual([
      'routes.r3.to: no sink named "nowhere" (sinks: s)',
    ]);
  });
});
