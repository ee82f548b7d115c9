/**
 * MQTT 3.1.1 retained messages (3.3.1.3) and the RETAIN flag on delivery, against
 * tidegate and Mosquitto (127.0.0.1:1883) as the reference. mqtt.js clients publish
 * (the library a device uses); raw peers subscribe, to see the RETAIN bit as sent.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { barrier, brokersUnderTest, newId, Peers, topicRoot } from './peer.js';

const brokers = brokersUnderTest();

describe.each(brokers)('%s: retained messages', (_name, port) => {
  const peers = new Peers(port);
  const clients: MqttClient[] = [];
  afterAll(async () => {
    // each test clears what it retained, so nothing is left on the shared Mosquitto
    peers.closeAll();
    for (const c of clients) c.end(true);
  });

  async function device(): Promise<MqttClient> {
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port()}`, {
      clientId: newId(),
      reconnectPeriod: 0,
      protocolVersion: 4,
    });
    clients.push(c);
    return c;
  }

  /** A raw subscriber of `filter` (QoS 1) that also listens on `${root}/barrier`. */
  async function subscriber(filter: string, root: string) {
    const p = await peers.connect();
    await p.subscribe([
      [filter, 1],
      [`${root}/barrier`, 0],
    ]);
    return p;
  }

  async function clear(dev: MqttClient, topic: string): Promise<void> {
    await dev.publishAsync(topic, '', { qos: 1, retain: true });
  }

  it('[MQTT-3.3.1-5] [MQTT-3.3.1-6] [MQTT-3.3.1-8] stores a retained message and sends it, RETAIN 1, to each new matching subscription', async () => {
    const root = topicRoot();
    const dev = await device();
    await dev.publishAsync(`${root}/config`, 'v1', { qos: 1, retain: true });
    for (const filter of [`${root}/config`, `${root}/+`, `${root}/#`]) {
      const sub = await subscriber(filter, root);
      const got = await sub.publishOn(`${root}/config`);
      expect([String(got?.payload), got?.retain, got?.qos]).toEqual(['v1', true, 1]);
      sub.send({ cmd: 'puback', messageId: got!.messageId! });
    }
    await clear(dev, `${root}/config`);
  });

  it('[MQTT-3.8.4-6] sends a retained message at the lower of its QoS and the granted QoS', async () => {
    const root = topicRoot();
    const dev = await device();
    await dev.publishAsync(`${root}/t`, 'v1', { qos: 1, retain: true });
    const sub = await peers.connect();
    await sub.subscribe(`${root}/+`, 0);
    const got = await sub.publishOn(`${root}/t`);
    // tidegate sent QoS 1 here before delivery.ts (aedes lowered it only for an exact filter)
    expect([String(got?.payload), got?.qos, got?.retain]).toEqual(['v1', 0, true]);
    await clear(dev, `${root}/t`);
  });

  it('[MQTT-3.3.1-9] sends a retained PUBLISH to an established subscription with RETAIN 0', async () => {
    const root = topicRoot();
    const sub = await subscriber(`${root}/t`, root);
    const dev = await device();
    await dev.publishAsync(`${root}/t`, 'live', { qos: 1, retain: true });
    const got = await sub.publishOn(`${root}/t`);
    expect([String(got?.payload), got?.retain]).toEqual(['live', false]);
    sub.send({ cmd: 'puback', messageId: got!.messageId! });
    await clear(dev, `${root}/t`);
  });

  it('[MQTT-3.3.1-5] [MQTT-3.3.1-7] a new retained message replaces the previous one, a QoS 0 one too', async () => {
    const root = topicRoot();
    const pub = await peers.connect();
    await pub.publish(`${root}/t`, 'v1', 1, true, 1);
    await pub.publish(`${root}/t`, 'v2', 1, true, 2);
    const a = await subscriber(`${root}/t`, root);
    const got = await a.publishOn(`${root}/t`);
    expect([String(got?.payload), got?.qos, got?.retain]).toEqual(['v2', 1, true]);
    a.send({ cmd: 'puback', messageId: got!.messageId! });
    await barrier(pub, a, `${root}/barrier`);
    expect(a.takePublishes(`${root}/t`)).toEqual([]);

    await pub.publish(`${root}/t`, 'v3', 0, true);
    await barrier(pub, a, `${root}/barrier`);
    const b = await subscriber(`${root}/t`, root);
    const latest = await b.publishOn(`${root}/t`);
    // [MQTT-3.3.1-7]: the server SHOULD keep the QoS 0 message (both do) and MUST drop v2
    expect([String(latest?.payload), latest?.qos, latest?.retain]).toEqual(['v3', 0, true]);
    await barrier(pub, b, `${root}/barrier`);
    expect(b.takePublishes(`${root}/t`)).toEqual([]);
    await pub.publish(`${root}/t`, '', 1, true, 3);
  });

  it('[MQTT-3.3.1-10] [MQTT-3.3.1-11] a retained PUBLISH with an empty payload reaches subscribers and clears the retained message', async () => {
    const root = topicRoot();
    const dev = await device();
    await dev.publishAsync(`${root}/t`, 'v1', { qos: 1, retain: true });
    const sub = await subscriber(`${root}/t`, root);
    const retained = await sub.publishOn(`${root}/t`);
    sub.send({ cmd: 'puback', messageId: retained!.messageId! });
    await dev.publishAsync(`${root}/t`, '', { qos: 1, retain: true });
    const empty = await sub.publishOn(`${root}/t`);
    expect([empty?.payload.length, empty?.retain]).toEqual([0, false]);
    sub.send({ cmd: 'puback', messageId: empty!.messageId! });

    const late = await subscriber(`${root}/#`, root);
    await barrier(await peers.connect(), late, `${root}/barrier`);
    expect(late.takePublishes(`${root}/t`).map((p) => String(p.payload))).toEqual([]);
  });

  it('[MQTT-3.3.1-12] a PUBLISH with RETAIN 0 neither stores nor replaces the retained message', async () => {
    const root = topicRoot();
    const dev = await device();
    await dev.publishAsync(`${root}/t`, 'kept', { qos: 1, retain: true });
    await dev.publishAsync(`${root}/t`, 'passing', { qos: 1, retain: false });
    await dev.publishAsync(`${root}/u`, 'never', { qos: 1, retain: false });
    const late = await subscriber(`${root}/+`, root);
    const got = await late.publishOn(`${root}/t`);
    late.send({ cmd: 'puback', messageId: got!.messageId! });
    await barrier(await peers.connect(), late, `${root}/barrier`);
    expect([String(got?.payload), ...late.takePublishes(root).map((p) => String(p.payload))]).toEqual([
      'kept',
    ]);
    await clear(dev, `${root}/t`);
  });

  it('[MQTT-3.8.4-3] re-sends the retained messages when an identical subscription replaces an existing one', async () => {
    const root = topicRoot();
    const dev = await device();
    await dev.publishAsync(`${root}/t`, 'v1', { qos: 1, retain: true });
    const sub = await peers.connect();
    await sub.subscribe(`${root}/t`, 0);
    expect((await sub.publishOn(`${root}/t`))?.retain).toBe(true);
    expect(await sub.subscribe(`${root}/t`, 1, 2)).toEqual([1]);
    const again = await sub.publishOn(`${root}/t`);
    expect([String(again?.payload), again?.retain, again?.qos]).toEqual(['v1', true, 1]);
    sub.send({ cmd: 'puback', messageId: again!.messageId! });
    // replaced, not added: one live message arrives once, at the new QoS
    await dev.publishAsync(`${root}/t`, 'live', { qos: 1 });
    const live = await sub.publishOn(`${root}/t`);
    expect([String(live?.payload), live?.qos]).toEqual(['live', 1]);
    sub.send({ cmd: 'puback', messageId: live!.messageId! });
    await sub.subscribe(`${root}/barrier`, 0, 3);
    await barrier(await peers.connect(), sub, `${root}/barrier`);
    expect(sub.takePublishes(`${root}/t`)).toEqual([]);
    await clear(dev, `${root}/t`);
  });
});
