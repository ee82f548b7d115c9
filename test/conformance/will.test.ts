/**
 * MQTT 3.1.1 will messages (3.1.2.5 - 3.1.2.7, 3.14.4): published when a connection
 * ends without DISCONNECT, never after one, retained when asked. Against tidegate
 * and Mosquitto (127.0.0.1:1883) as the reference.
 */
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import {
  barrier,
  brokersUnderTest,
  type ConnectOptions,
  newId,
  type Peer,
  Peers,
  topicRoot,
} from './peer.js';

const brokers = brokersUnderTest();

describe.each(brokers)('%s: will messages', (_name, port) => {
  const peers = new Peers(port);
  afterAll(() => peers.closeAll());

  /** A watcher of `${root}/will` (QoS 2 granted) and `${root}/barrier`, and a client with that will. */
  async function setup(root: string, will: Partial<NonNullable<ConnectOptions['will']>> = {}, id = newId()) {
    const watcher = await peers.connect();
    await watcher.subscribe([
      [`${root}/will`, 2],
      [`${root}/barrier`, 0],
    ]);
    const opts: ConnectOptions = {
      clientId: id,
      will: { topic: `${root}/will`, payload: Buffer.from('gone'), qos: 1, retain: false, ...will },
    };
    return { watcher, device: await peers.connect(opts), opts };
  }

  async function ack(p: Peer, got: { messageId?: number; qos: number } | null): Promise<void> {
    if (got?.qos === 1) p.send({ cmd: 'puback', messageId: got.messageId! });
  }

  it('[MQTT-3.1.2-8] publishes the will, at its QoS, when the connection closes without DISCONNECT', async () => {
    const root = topicRoot();
    const { watcher, device } = await setup(root);
    device.drop();
    const will = await watcher.publishOn(`${root}/will`);
    expect([String(will?.payload), will?.qos, will?.retain]).toEqual(['gone', 1, false]);
    await ack(watcher, will);
  });

  it('[MQTT-3.1.2-8] [MQTT-4.8.0-1] publishes the will when the server closes the connection for a protocol violation', async () => {
    const root = topicRoot();
    const { watcher, device } = await setup(root);
    device.raw(Buffer.from([0x82, 0x02, 0x00, 0x01])); // SUBSCRIBE without a topic filter [MQTT-3.8.3-3]
    expect(await device.waitClosed()).toBe(true);
    const will = await watcher.publishOn(`${root}/will`);
    expect(String(will?.payload)).toBe('gone');
    await ack(watcher, will);
  });

  it('[MQTT-3.14.4-3] [MQTT-3.1.2-10] does not publish the will after DISCONNECT', async () => {
    const root = topicRoot();
    const { watcher, device } = await setup(root);
    device.disconnect();
    expect(await device.waitClosed()).toBe(true);
    await barrier(await peers.connect(), watcher, `${root}/barrier`);
    expect(watcher.takePublishes(`${root}/will`)).toEqual([]);
  });

  it('[MQTT-3.1.2-10] publishes a will once: a second close of the same session does not repeat it', async () => {
    const root = topicRoot();
    const clientId = newId();
    const { watcher, device } = await setup(root, {}, clientId);
    device.drop();
    await ack(watcher, await watcher.publishOn(`${root}/will`));
    // the same client id comes back without a will and leaves abnormally again
    (await peers.connect({ clientId })).drop();
    await barrier(await peers.connect(), watcher, `${root}/barrier`);
    expect(watcher.takePublishes(`${root}/will`)).toEqual([]);
  });

  it('[MQTT-3.1.2-17] publishes a will with Will Retain 1 as a retained message', async () => {
    const root = topicRoot();
    const { watcher, device } = await setup(root, { retain: true, qos: 0 });
    device.drop();
    expect(String((await watcher.publishOn(`${root}/will`))?.payload)).toBe('gone');
    const late = await peers.connect();
    await late.subscribe(`${root}/will`, 1);
    const kept = await late.publishOn(`${root}/will`);
    expect([String(kept?.payload), kept?.retain]).toEqual(['gone', true]);
    await late.publish(`${root}/will`, '', 1, true, 9); // clear it on the shared broker
  });

  it('[MQTT-3.1.2-16] publishes a will with Will Retain 0 as a non-retained message', async () => {
    const root = topicRoot();
    const { watcher, device } = await setup(root, { retain: false });
    device.drop();
    await ack(watcher, await watcher.publishOn(`${root}/will`));
    const late = await peers.connect();
    await late.subscribe([
      [`${root}/will`, 1],
      [`${root}/barrier`, 0],
    ]);
    await barrier(await peers.connect(), late, `${root}/barrier`);
    expect(late.takePublishes(`${root}/will`)).toEqual([]);
  });

  it('[MQTT-3.1.4-2] [MQTT-3.1.2-8] publishes the will of a client taken over by a new connection with its client id', async () => {
    const root = topicRoot();
    const clientId = newId();
    const { watcher, device } = await setup(root, {}, clientId);
    // an mqtt.js device reconnecting with the same id, as after a half-open TCP connection
    const next = await mqtt.connectAsync(`mqtt://127.0.0.1:${port()}`, {
      clientId,
      reconnectPeriod: 0,
      protocolVersion: 4,
    });
    try {
      expect(await device.waitClosed()).toBe(true);
      const will = await watcher.publishOn(`${root}/will`);
      expect(String(will?.payload)).toBe('gone');
      await ack(watcher, will);
    } finally {
      next.end(true);
    }
  });
});
