/**
 * The MQTT sink against real Mosquitto: the shared one on 127.0.0.1:1883 for
 * delivery, and a private one that the test stops and restarts for outages.
 */
import { randomUUID } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../gateway/src/app.js';
import type { RecordEnvelope } from '../../gateway/src/contracts/record.js';
import { startInProcess, until } from '../support/in-process.js';
import { mosquitto } from '../support/mosquitto.js';

const cleanup: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const f of cleanup.reverse()) await f();
});

async function subscriber(
  url: string,
  filter: string,
): Promise<{ got: Array<{ topic: string; body: Buffer }>; c: MqttClient }> {
  const c = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
  cleanup.push(() => c.endAsync());
  const got: Array<{ topic: string; body: Buffer }> = [];
  c.on('message', (topic, body) => got.push({ topic, body }));
  await c.subscribeAsync(filter, { qos: 1 });
  return { got, c };
}

async function device(gw: Gateway, id: string): Promise<MqttClient> {
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.broker.port}`, {
    clientId: id,
    reconnectPeriod: 0,
  });
  cleanup.push(() => c.endAsync());
  return c;
}

describe('MQTT sink', () => {
  it('forwards each record to the upstream broker with the templated topic and the record envelope', async () => {
    const run = randomUUID().slice(0, 8);
    const sub = await subscriber('mqtt://127.0.0.1:1883', `tidegate-test/${run}/#`);
    const gw = await startInProcess({
      sinks: {
        up: { type: 'mqtt', url: 'mqtt://127.0.0.1:1883', topic: `tidegate-test/${run}/{deviceId}/{topic}` },
      },
      routes: { all: { from: 'devices/#', to: 'up' } },
    });
    cleanup.push(() => gw.stop());
    for (const id of ['a', 'b']) {
      const d = await device(gw, id);
      for (let i = 0; i < 50; i++) await d.publishAsync(`devices/${id}/t`, JSON.stringify({ i }), { qos: 1 });
    }
    await until(() => sub.got.length >= 100, 10_000, '100 messages upstream');
    const envs = sub.got.map((m) => ({
      topic: m.topic,
      env: JSON.parse(m.body.toString()) as RecordEnvelope,
    }));
    for (const id of ['a', 'b']) {
      const mine = envs.filter((e) => e.env.deviceId === id);
      expect(mine.map((e) => (e.env.payload as { i: number }).i)).toEqual([...Array(50).keys()]);
      expect(new Set(mine.map((e) => e.topic))).toEqual(
        new Set([`tidegate-test/${run}/${id}/devices/${id}/t`]),
      );
      expect(mine[0]!.env).toMatchObject({
        gatewayId: 'tidegate',
        topic: `devices/${id}/t`,
        contentType: 'application/json',
      });
    }
    expect(new Set(envs.map((e) => e.env.id)).size).toBe(100);
  });

  it('packs a batch into one JSON array message when asked', async () => {
    const run = randomUUID().slice(0, 8);
    const sub = await subscriber('mqtt://127.0.0.1:1883', `tidegate-test/${run}/#`);
    const gw = await startInProcess({
      sinks: {
        up: {
          type: 'mqtt',
          url: 'mqtt://127.0.0.1:1883',
          pack: 'json',
          packTopic: `tidegate-test/${run}/batch`,
          batch: { linger: '200ms' },
        },
      },
      routes: { all: { from: '#', to: 'up' } },
    });
    cleanup.push(() => gw.stop());
    const d = await device(gw, 'packer');
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => d.publishAsync('x/y', JSON.stringify({ i }), { qos: 1 })),
    );
    await until(
      () => sub.got.reduce((n, m) => n + (JSON.parse(m.body.toString()) as unknown[]).length, 0) >= 20,
    );
    const all = sub.got.flatMap((m) => JSON.parse(m.body.toString()) as RecordEnvelope[]);
    expect(all.map((e) => (e.payload as { i: number }).i)).toEqual([...Array(20).keys()]);
    expect(sub.got.length).toBeLessThan(20);
  });

  it('buffers through an upstream outage and delivers everything, in order, when it returns', async () => {
    const up = await mosquitto();
    cleanup.push(() => up.stop());
    const gw = await startInProcess({
      sinks: {
        up: {
          type: 'mqtt',
          url: up.url,
          topic: 'out/{deviceId}',
          retry: { initialDelay: 50, maxDelay: 200 },
        },
      },
      routes: { all: { from: '#', to: 'up' } },
    });
    cleanup.push(() => gw.stop());
    const sub = await subscriber(up.url, 'out/#');
    const d = await device(gw, 'outage-dev');
    for (let i = 0; i < 30; i++) await d.publishAsync('t', String(i), { qos: 1 });
    await until(() => sub.got.length >= 30);
    await up.stop();
    for (let i = 30; i < 130; i++) await d.publishAsync('t', String(i), { qos: 1 });
    const during = await gw.snapshot();
    expect(during.sinks[0]!.backlogMessages).toBeGreaterThan(0);
    await until(
      async () => (await gw.snapshot()).sinks[0]!.state !== 'up',
      5000,
      'sink to notice the outage',
    );
    expect((await gw.snapshot()).sinks[0]!.lastError).toMatch(/not connected|connection|ECONNREFUSED/i);
    // hold the drain until the new subscriber is there (the private broker keeps nothing across its restart)
    expect(gw.pauseSink('up')).toBe(true);
    await up.start();
    const sub2 = await subscriber(up.url, 'out/#');
    gw.resumeSink('up');
    const values = () =>
      sub2.got.map((m) =>
        Number(
          Buffer.from((JSON.parse(m.body.toString()) as RecordEnvelope).payloadBase64!, 'base64').toString(),
        ),
      );
    // the queue is empty once the broker has PUBACKed; the subscriber may still be receiving
    await until(() => new Set(values()).size >= 100, 20_000, 'all 100 at the subscriber');
    await until(
      async () => (await gw.snapshot()).sinks[0]!.backlogMessages === 0,
      20_000,
      'drain after outage',
    );
    const after = values();
    // everything published during the outage arrives, in order; a record sent before the outage may
    // come again when its PUBACK was lost with the broker (at-least-once), and is then a duplicate
    const resent = after.filter((v) => v < 30);
    expect(resent.every((v) => sub.got.length > v)).toBe(true);
    const fresh = after.filter((v) => v >= 30);
    const dedup = fresh.filter((v, i) => fresh.indexOf(v) === i);
    expect(dedup).toEqual([...Array(100).keys()].map((i) => i + 30));
  });

  it('reports a wrong password clearly on the sink status and keeps retrying', async () => {
    const up = await mosquitto({ users: { gw: 'right-password' } });
    cleanup.push(() => up.stop());
    const gw = await startInProcess({
      sinks: {
        up: {
          type: 'mqtt',
          url: up.url,
          username: 'gw',
          password: 'wrong',
          retry: { initialDelay: 50, maxDelay: 100 },
        },
      },
      routes: { all: { from: '#', to: 'up' } },
    });
    cleanup.push(() => gw.stop());
    const d = await device(gw, 'pw-dev');
    await d.publishAsync('t', 'kept', { qos: 1 });
    const s = await until(
      async () => {
        const snap = await gw.snapshot();
        return /Not authorized|Bad username or password/i.test(snap.sinks[0]!.lastError ?? '')
          ? snap.sinks[0]
          : null;
      },
      10_000,
      'auth error on the sink',
    );
    expect(s.backlogMessages).toBe(1);
    expect(['retrying', 'down']).toContain(s.state);
  });
});
