/**
 * The broker through real MQTT clients (mqtt.js) on a real socket: QoS 0/1/2,
 * retained, will, persistent sessions, and the core promise that a PUBACK
 * means the message is already committed to the SQLite queue.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../gateway/src/app.js';
import { tempDir } from '../support/gateway-process.js';
import { startInProcess, until } from '../support/in-process.js';
import { readFileSink } from '../support/records.js';

const clients: MqttClient[] = [];
async function connect(port: number, opts: mqtt.IClientOptions = {}): Promise<MqttClient> {
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, ...opts });
  clients.push(c);
  return c;
}

function nextMessage(
  c: MqttClient,
): Promise<{ topic: string; payload: string; retain: boolean; qos: number }> {
  return new Promise((resolve) =>
    c.once('message', (topic, payload, packet) =>
      resolve({ topic, payload: payload.toString(), retain: packet.retain, qos: packet.qos }),
    ),
  );
}

describe('broker: MQTT 3.1.1 features for local clients', () => {
  let gw: Gateway;
  beforeAll(async () => {
    gw = await startInProcess();
  });
  afterAll(async () => {
    for (const c of clients.splice(0)) c.end(true);
    await gw.stop();
  });

  it.each([0, 1, 2] as const)(
    'delivers a QoS %i publish to a local subscriber and to the file sink',
    async (qos) => {
      const sub = await connect(gw.broker.port, { clientId: `sub-${qos}` });
      await sub.subscribeAsync(`plant/q${qos}`, { qos });
      const got = nextMessage(sub);
      const pub = await connect(gw.broker.port, { clientId: `pub-${qos}` });
      await pub.publishAsync(`plant/q${qos}`, JSON.stringify({ qos }), { qos });
      expect(await got).toMatchObject({ topic: `plant/q${qos}`, payload: JSON.stringify({ qos }), qos });
      const records = await until(async () => {
        const all = await readFileSink(join(gw.config.dataDir, 'out'));
        return all.find((r) => r.topic === `plant/q${qos}`);
      });
      expect(records).toMatchObject({
        deviceId: `pub-${qos}`,
        payload: { qos },
        gatewayId: 'tidegate',
        route: 'all',
      });
      expect(records.id).toMatch(/^tidegate\/\d+$/);
    },
  );

  it('keeps a retained message for later subscribers', async () => {
    const pub = await connect(gw.broker.port);
    await pub.publishAsync('plant/retained', 'last-known', { qos: 1, retain: true });
    const sub = await connect(gw.broker.port);
    const got = nextMessage(sub);
    await sub.subscribeAsync('plant/retained', { qos: 1 });
    expect(await got).toMatchObject({ payload: 'last-known', retain: true });
  });

  it('publishes the last will when a client drops without DISCONNECT', async () => {
    const watcher = await connect(gw.broker.port);
    await watcher.subscribeAsync('plant/will', { qos: 1 });
    const got = nextMessage(watcher);
    const dying = await connect(gw.broker.port, {
      clientId: 'dying',
      will: { topic: 'plant/will', payload: Buffer.from('gone'), qos: 1, retain: false },
    });
    (dying.stream as unknown as { destroy(): void }).destroy();
    expect(await got).toMatchObject({ topic: 'plant/will', payload: 'gone' });
  });

  it('queues QoS 1 messages for an offline persistent session and delivers them on reconnect', async () => {
    const first = await connect(gw.broker.port, { clientId: 'persistent-1', clean: false });
    await first.subscribeAsync('plant/offline', { qos: 1 });
    await first.endAsync();
    const pub = await connect(gw.broker.port);
    await pub.publishAsync('plant/offline', 'while-you-were-away', { qos: 1 });
    const again = mqtt.connect(`mqtt://127.0.0.1:${gw.broker.port}`, {
      clientId: 'persistent-1',
      clean: false,
      reconnectPeriod: 0,
    });
    clients.push(again);
    const got = await nextMessage(again);
    expect(got).toMatchObject({ topic: 'plant/offline', payload: 'while-you-were-away', qos: 1 });
  });
});

describe('broker: acknowledgement means durable', () => {
  it('has the message committed to SQLite when the PUBACK and the PUBREC arrive', async () => {
    const dir = tempDir();
    // the sink cannot write (its folder is under a regular file), so committed messages stay queued
    writeFileSync(join(dir, 'blocker'), 'x');
    const gw = await startInProcess(
      {
        sinks: {
          local: {
            type: 'file',
            path: join(dir, 'blocker', 'out'),
            retry: { initialDelay: 50, maxDelay: 100 },
          },
        },
      },
      dir,
    );
    try {
      const db = new Database(join(dir, 'tidegate.db'), { readonly: true });
      const count = db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM messages WHERE topic = ?');
      const c = await connect(gw.broker.port, { clientId: 'durable-1' });
      for (let i = 0; i < 20; i++) {
        await c.publishAsync('durable/q1', `m${i}`, { qos: 1 });
        expect(count.get('durable/q1')!.n).toBe(i + 1);
        await c.publishAsync('durable/q2', `m${i}`, { qos: 2 });
        expect(count.get('durable/q2')!.n).toBe(i + 1);
      }
      db.close();
      const snap = await gw.snapshot();
      expect(snap.sinks[0]).toMatchObject({ backlogMessages: 40 });
      expect(['retrying', 'down']).toContain(snap.sinks[0]!.state);
      expect(snap.sinks[0]!.lastError).toMatch(/ENOTDIR/);
    } finally {
      for (const c of clients.splice(0)) c.end(true);
      await gw.stop();
    }
  });
});
