/**
 * Limits through real clients: the per-client rate limit slows a fast publisher
 * down without losing anything it was acknowledged for; connection and
 * subscription caps refuse and count.
 */
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../gateway/src/app.js';
import { connectPacket, RawClient, SUBACK, subscribePacket } from '../conformance/raw.js';
import { startInProcess, until } from '../support/in-process.js';
import { readFileSink } from '../support/records.js';

describe('broker: limits', () => {
  let gw: Gateway;
  const clients: MqttClient[] = [];
  beforeAll(async () => {
    gw = await startInProcess({
      mqtt: { maxClients: 3, limits: { messageRate: 20, messageBurst: 5, maxSubscriptionsPerClient: 2 } },
    });
  });
  afterAll(async () => {
    for (const c of clients) c.end(true);
    await gw.stop();
  });

  it('slows a client over messageRate by pausing its socket, and loses none of its messages', async () => {
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.broker.port}`, {
      clientId: 'fast',
      reconnectPeriod: 0,
    });
    clients.push(c);
    const t0 = Date.now();
    await Promise.all(Array.from({ length: 45 }, (_, i) => c.publishAsync('rate/t', String(i), { qos: 1 })));
    const seconds = (Date.now() - t0) / 1000;
    // 5 from the burst, 40 more at 20/s: at least ~2 s
    expect(seconds).toBeGreaterThan(1.8);
    expect((await gw.metrics.throttled.get()).values[0]?.value).toBeGreaterThan(0);
    // everything acknowledged reached the sink, in order (the file sink drains the queue)
    const records = await until(async () => {
      const all = (await readFileSink(join(gw.config.dataDir, 'out'))).filter((r) => r.topic === 'rate/t');
      return all.length >= 45 ? all : null;
    });
    expect(records.map((r) => String(r.payload ?? Buffer.from(r.payloadBase64 ?? '', 'base64')))).toEqual(
      Array.from({ length: 45 }, (_, i) => String(i)),
    );
  });

  it('gives 0x80 to subscriptions beyond maxSubscriptionsPerClient and counts them', async () => {
    const c = await RawClient.open(gw.broker.port);
    c.send(connectPacket({ clientId: 'subs' }));
    expect(await c.connack()).toEqual([0, 0]);
    c.send(subscribePacket(['s/1', 's/2', 's/3'], 1, 3));
    const suback = await c.next(SUBACK);
    expect([...suback!.body]).toEqual([0, 3, 1, 1, 0x80]);
    const m = await gw.metrics.refused.get();
    expect(m.values.find((v) => v.labels.reason === 'too_many_subscriptions')?.value).toBe(1);
    c.close();
  });

  it('closes connections beyond maxClients and counts them', async () => {
    const open = await Promise.all([0, 1, 2].map(() => RawClient.open(gw.broker.port)));
    await new Promise((r) => setTimeout(r, 100));
    const extra = await RawClient.open(gw.broker.port);
    expect(await extra.waitClosed(2000)).toBe(true);
    const m = await gw.metrics.refused.get();
    expect(m.values.find((v) => v.labels.reason === 'max_connections')?.value).toBeGreaterThanOrEqual(1);
    for (const o of open) o.close();
  });
});
