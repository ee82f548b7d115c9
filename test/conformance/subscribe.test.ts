/**
 * MQTT 3.1.1 SUBSCRIBE / SUBACK and UNSUBSCRIBE / UNSUBACK (3.8 - 3.11): return
 * codes in order, packet ids, replacement and removal of subscriptions, malformed
 * packets. Against tidegate and Mosquitto (127.0.0.1:1883) as the reference.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startInProcess } from '../support/in-process.js';
import { barrier, brokersUnderTest, Peers, topicRoot } from './peer.js';

const brokers = brokersUnderTest();

/** SUBSCRIBE / UNSUBSCRIBE of `filter` written by hand, with the fixed header byte and QoS byte given. */
function raw(first: number, filter: string, qos?: number): Buffer {
  const t = Buffer.from(filter);
  const body = [0x00, 0x05, t.length >> 8, t.length & 255, ...t, ...(qos === undefined ? [] : [qos])];
  return Buffer.from([first, body.length, ...body]);
}

describe.each(brokers)('%s: SUBSCRIBE and UNSUBSCRIBE', (_name, port) => {
  const peers = new Peers(port);
  afterAll(() => peers.closeAll());

  it('[MQTT-3.8.4-1] [MQTT-3.8.4-2] [MQTT-2.3.1-7] [MQTT-3.8.4-4] [MQTT-3.8.4-5] [MQTT-3.9.3-1] one SUBACK, same packet id, one return code per filter in order', async () => {
    const root = topicRoot();
    const sub = await peers.connect();
    sub.send({
      cmd: 'subscribe',
      messageId: 0x1234,
      subscriptions: [
        { topic: `${root}/a`, qos: 2 },
        { topic: `${root}/b`, qos: 0 },
        { topic: `${root}/c/#`, qos: 1 },
        { topic: `${root}/+/d`, qos: 2 },
      ],
    });
    const ack = await sub.next('suback');
    expect(ack?.messageId).toBe(0x1234);
    expect(ack?.granted).toEqual([2, 0, 1, 2]);
    expect(await sub.next('suback', 200)).toBeNull();
  });

  it('[MQTT-3.8.4-3] an identical filter replaces the subscription: one copy per message, at the new QoS', async () => {
    const root = topicRoot();
    const sub = await peers.connect();
    expect(await sub.subscribe(`${root}/t`, 2, 1)).toEqual([2]);
    expect(await sub.subscribe(`${root}/t`, 0, 2)).toEqual([0]);
    const pub = await peers.connect();
    await pub.publish(`${root}/t`, 'x', 1);
    await pub.publish(`${root}/t`, 'fence', 1, false, 2);
    const got = [await sub.publishOn(`${root}/t`), await sub.publishOn(`${root}/t`)];
    expect(got.map((p) => [String(p?.payload), p?.qos])).toEqual([
      ['x', 0],
      ['fence', 0],
    ]);
  });

  it('[MQTT-3.3.5-1] overlapping subscriptions: the message arrives at the highest QoS they grant', async () => {
    const root = topicRoot();
    const sub = await peers.connect();
    await sub.subscribe([
      [`${root}/x/#`, 0],
      [`${root}/x/+`, 2],
      [`${root}/barrier`, 0],
    ]);
    const pub = await peers.connect();
    pub.send({
      cmd: 'publish',
      topic: `${root}/x/y`,
      payload: 'z',
      qos: 2,
      messageId: 3,
      retain: false,
      dup: false,
    });
    await pub.next('pubrec');
    pub.send({ cmd: 'pubrel', messageId: 3 });
    await pub.next('pubcomp');
    await barrier(pub, sub, `${root}/barrier`);
    // The spec allows one copy or one per subscription (3.3.5, non-normative); both brokers send
    // one. It must go at the highest granted QoS: tidegate sent it at QoS 0 before delivery.ts
    // (aedes 1.2 used whichever subscription ran first); Mosquitto sends QoS 2: right.
    const copies = sub.takePublishes(`${root}/x/`);
    expect(copies.length).toBeGreaterThan(0);
    expect(Math.max(...copies.map((p) => p.qos))).toBe(2);
  });

  it('[MQTT-3.10.4-4] [MQTT-2.3.1-7] [MQTT-3.10.4-2] UNSUBACK with the same packet id, and no new messages for the filter', async () => {
    const root = topicRoot();
    const sub = await peers.connect();
    await sub.subscribe([
      [`${root}/a`, 1],
      [`${root}/b`, 1],
    ]);
    sub.send({ cmd: 'unsubscribe', messageId: 0x2222, unsubscriptions: [`${root}/a`] });
    expect((await sub.next('unsuback'))?.messageId).toBe(0x2222);
    const pub = await peers.connect();
    await pub.publish(`${root}/a`, 'gone', 1, false, 1);
    await pub.publish(`${root}/b`, 'kept', 1, false, 2);
    const b = await sub.publishOn(`${root}/b`);
    sub.send({ cmd: 'puback', messageId: b!.messageId! });
    expect(sub.takePublishes(`${root}/a`)).toEqual([]);
  });

  it('[MQTT-3.10.4-5] answers UNSUBACK even when no subscription matched', async () => {
    const sub = await peers.connect();
    sub.send({ cmd: 'unsubscribe', messageId: 17, unsubscriptions: [`${topicRoot()}/never`] });
    expect((await sub.next('unsuback'))?.messageId).toBe(17);
    expect(sub.closed).toBe(false);
  });

  it('[MQTT-3.10.4-1] compares UNSUBSCRIBE filters character by character: "a/x" does not remove "a/+"', async () => {
    const root = topicRoot();
    const sub = await peers.connect();
    await sub.subscribe(`${root}/a/+`, 0);
    sub.send({ cmd: 'unsubscribe', messageId: 4, unsubscriptions: [`${root}/a/x`] });
    expect((await sub.next('unsuback'))?.messageId).toBe(4);
    const pub = await peers.connect();
    await pub.publish(`${root}/a/x`, 'still', 1);
    expect(String((await sub.publishOn(`${root}/a/x`))?.payload)).toBe('still');
  });

  it('[MQTT-3.10.4-6] removes every filter of one UNSUBSCRIBE and answers with one UNSUBACK', async () => {
    const root = topicRoot();
    const sub = await peers.connect();
    await sub.subscribe([
      [`${root}/a`, 0],
      [`${root}/b`, 0],
      [`${root}/c`, 0],
    ]);
    sub.send({ cmd: 'unsubscribe', messageId: 8, unsubscriptions: [`${root}/a`, `${root}/b`] });
    expect((await sub.next('unsuback'))?.messageId).toBe(8);
    const pub = await peers.connect();
    for (const t of ['a', 'b', 'c']) await pub.publish(`${root}/${t}`, t, 1);
    expect(String((await sub.publishOn(`${root}/c`))?.payload)).toBe('c');
    expect(sub.takePublishes(root)).toEqual([]);
    expect(await sub.next('unsuback', 200)).toBeNull();
  });

  it.each([
    ['[MQTT-3.8.1-1] SUBSCRIBE with fixed header flags 0000', (f: string) => raw(0x80, f, 0)],
    ['[MQTT-3.8.3-3] SUBSCRIBE without a topic filter', () => Buffer.from([0x82, 0x02, 0x00, 0x05])],
    ['[MQTT-3.8.3-4] SUBSCRIBE asking QoS 3', (f: string) => raw(0x82, f, 3)],
    ['[MQTT-3.8.3-4] SUBSCRIBE with reserved bits set in the QoS byte', (f: string) => raw(0x82, f, 0x41)],
    ['[MQTT-3.10.1-1] UNSUBSCRIBE with fixed header flags 0000', (f: string) => raw(0xa0, f)],
    // tidegate answered this with UNSUBACK before 9844c51 (mqtt-packet parses it); Mosquitto closes: right
    ['[MQTT-3.10.3-2] UNSUBSCRIBE without a topic filter', () => Buffer.from([0xa2, 0x02, 0x00, 0x05])],
  ])('[MQTT-4.8.0-1] closes the connection on a malformed packet: %s', async (_what, make) => {
    const sub = await peers.connect();
    sub.raw(make(`${topicRoot()}/t`));
    expect(await sub.waitClosed()).toBe(true);
    expect(sub.inbox.map((p) => p.cmd)).toEqual([]);
  });
});

describe('tidegate: refused filters in SUBACK', () => {
  it('[MQTT-3.9.3-1] [MQTT-3.9.3-2] [MQTT-3.8.4-5] answers 0x80 in the place of a filter the ACL refuses, the others granted', async () => {
    const acl = await startInProcess({ mqtt: { acl: { rules: ['topic readwrite open/#'] } } });
    const peers = new Peers(() => acl.broker.port);
    try {
      const sub = await peers.connect();
      sub.send({
        cmd: 'subscribe',
        messageId: 9,
        subscriptions: [
          { topic: 'open/a', qos: 1 },
          { topic: 'closed/b', qos: 1 },
          { topic: 'open/c/#', qos: 2 },
        ],
      });
      const ack = await sub.next('suback');
      expect([ack?.messageId, ack?.granted]).toEqual([9, [1, 0x80, 2]]);
    } finally {
      peers.closeAll();
      await acl.stop();
    }
  });
});
