/**
 * MQTT 3.1.1 QoS 1 and QoS 2 flows (section 4.3), packet identifiers (2.3.1) and
 * the PUBLISH flags (3.3.1), on raw mqtt-packet peers that acknowledge only what a
 * test tells them to, against tidegate and Mosquitto (127.0.0.1:1883) as the reference.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { barrier, brokersUnderTest, Peers, topicRoot } from './peer.js';

const brokers = brokersUnderTest();

describe.each(brokers)('%s: QoS flows', (_name, port) => {
  const peers = new Peers(port);
  afterAll(() => peers.closeAll());

  it('[MQTT-4.3.2-2] [MQTT-2.3.1-6] answers a QoS 1 PUBLISH with a PUBACK of the same packet id; [MQTT-4.3.2-1] [MQTT-2.3.1-1] delivers it with a non-zero id and DUP 0', async () => {
    const root = topicRoot();
    const sub = await peers.connect();
    await sub.subscribe(`${root}/t`, 1);
    const pub = await peers.connect();
    pub.send({
      cmd: 'publish',
      topic: `${root}/t`,
      payload: 'x',
      qos: 1,
      messageId: 4711,
      retain: false,
      dup: false,
    });
    const ack = await pub.next('puback');
    expect(ack?.messageId).toBe(4711);
    const got = await sub.publishOn(`${root}/t`);
    expect(got).toMatchObject({ qos: 1, dup: false, retain: false });
    expect(got!.messageId).toBeGreaterThan(0);
    sub.send({ cmd: 'puback', messageId: got!.messageId! });
  });

  it('[MQTT-4.3.2-2] treats a PUBLISH reusing a packet id after its PUBACK as a new message, DUP or not', async () => {
    const root = topicRoot();
    const sub = await peers.connect();
    await sub.subscribe(`${root}/t`, 0);
    const pub = await peers.connect();
    await pub.publish(`${root}/t`, 'first', 1, false, 9);
    pub.send({
      cmd: 'publish',
      topic: `${root}/t`,
      payload: 'second',
      qos: 1,
      messageId: 9,
      retain: false,
      dup: true,
    });
    expect((await pub.next('puback'))?.messageId).toBe(9);
    expect(String((await sub.publishOn(`${root}/t`))?.payload)).toBe('first');
    expect(String((await sub.publishOn(`${root}/t`))?.payload)).toBe('second');
  });

  it('[MQTT-3.3.1-3] does not pass the DUP flag of an incoming PUBLISH on to subscribers', async () => {
    const root = topicRoot();
    const sub = await peers.connect();
    await sub.subscribe(`${root}/t`, 1);
    const pub = await peers.connect();
    pub.send({
      cmd: 'publish',
      topic: `${root}/t`,
      payload: 'x',
      qos: 1,
      messageId: 3,
      retain: false,
      dup: true,
    });
    const got = await sub.publishOn(`${root}/t`);
    expect(got?.dup).toBe(false);
    sub.send({ cmd: 'puback', messageId: got!.messageId! });
  });

  it('[MQTT-4.3.3-2] QoS 2 in: PUBREC for the PUBLISH and for its DUP retransmission before PUBREL, PUBCOMP for PUBREL, delivered exactly once', async () => {
    const root = topicRoot();
    const sub = await peers.connect();
    await sub.subscribe([
      [`${root}/t`, 0],
      [`${root}/barrier`, 0],
    ]);
    const pub = await peers.connect();
    const publish = {
      cmd: 'publish',
      topic: `${root}/t`,
      payload: 'once',
      qos: 2,
      messageId: 42,
      retain: false,
    } as const;
    pub.send({ ...publish, dup: false });
    expect((await pub.next('pubrec'))?.messageId).toBe(42);
    // the PUBREC "was lost": the sender retransmits with DUP=1 [MQTT-3.3.1-1]
    pub.send({ ...publish, dup: true });
    expect((await pub.next('pubrec'))?.messageId).toBe(42);
    pub.send({ cmd: 'pubrel', messageId: 42 });
    expect((await pub.next('pubcomp'))?.messageId).toBe(42);
    // tidegate (aedes) delivers on PUBLISH, Mosquitto on PUBREL: the spec allows either (4.3.3,
    // non-normative methods A and B). What it forbids is a second onward delivery.
    await barrier(pub, sub, `${root}/barrier`);
    expect(sub.takePublishes(`${root}/t`).map((p) => String(p.payload))).toEqual(['once']);
  });

  it('[MQTT-4.3.3-2] treats a QoS 2 PUBLISH reusing a packet id after PUBCOMP as a new message', async () => {
    const root = topicRoot();
    const sub = await peers.connect();
    await sub.subscribe(`${root}/t`, 0);
    const pub = await peers.connect();
    for (const payload of ['one', 'two']) {
      pub.send({
        cmd: 'publish',
        topic: `${root}/t`,
        payload,
        qos: 2,
        messageId: 77,
        retain: false,
        dup: false,
      });
      expect((await pub.next('pubrec'))?.messageId).toBe(77);
      pub.send({ cmd: 'pubrel', messageId: 77 });
      expect((await pub.next('pubcomp'))?.messageId).toBe(77);
      expect(String((await sub.publishOn(`${root}/t`))?.payload)).toBe(payload);
    }
  });

  it('[MQTT-4.3.3-1] [MQTT-2.3.1-6] [MQTT-3.6.1-1] QoS 2 out: PUBREL (flags 0010) with the id of the PUBLISH it answers, after the PUBREC', async () => {
    const root = topicRoot();
    const sub = await peers.connect();
    await sub.subscribe(`${root}/t`, 2);
    const pub = await peers.connect();
    pub.send({
      cmd: 'publish',
      topic: `${root}/t`,
      payload: 'x',
      qos: 2,
      messageId: 5,
      retain: false,
      dup: false,
    });
    await pub.next('pubrec');
    pub.send({ cmd: 'pubrel', messageId: 5 });
    await pub.next('pubcomp');
    const got = await sub.publishOn(`${root}/t`);
    expect(got).toMatchObject({ qos: 2, dup: false });
    // no PUBREL before the subscriber's PUBREC
    expect(await sub.next('pubrel', 300)).toBeNull();
    sub.send({ cmd: 'pubrec', messageId: got!.messageId! });
    const rel = await sub.next('pubrel');
    expect(rel?.messageId).toBe(got!.messageId);
    // flags 0010: the peer's parser (mqtt-packet) closes the connection on any other PUBREL flags
    sub.send({ cmd: 'pubcomp', messageId: got!.messageId! });
  });

  it.each([
    ['an exact filter', 'low'],
    // aedes 1.2 lowered the QoS only for a filter equal to the topic: tidegate sent QoS 2 here
    // before delivery.ts; Mosquitto sends QoS 1: right
    ['a wildcard filter', 'low/+'],
  ])(
    '[MQTT-3.8.4-6] [MQTT-3.3.5-1] delivers at the lower of the published and the granted QoS, through %s',
    async (_what, filter) => {
      const root = topicRoot();
      const sub = await peers.connect();
      expect(
        await sub.subscribe([
          [`${root}/${filter}`, 1],
          [`${root}/high`, 2],
        ]),
      ).toEqual([1, 2]);
      const pub = await peers.connect();
      const topic = `${root}/${filter.replace('+', 'x')}`;
      pub.send({ cmd: 'publish', topic, payload: 'x', qos: 2, messageId: 6, retain: false, dup: false });
      await pub.next('pubrec');
      pub.send({ cmd: 'pubrel', messageId: 6 });
      await pub.next('pubcomp');
      await pub.publish(`${root}/high`, 'y', 0);
      const low = await sub.publishOn(topic);
      expect(low?.qos).toBe(1);
      sub.send({ cmd: 'puback', messageId: low!.messageId! });
      expect((await sub.publishOn(`${root}/high`))?.qos).toBe(0);
    },
  );

  it('[MQTT-4.6.0-6] delivers the QoS 1 messages of one publisher on one topic in the order it sent them', async () => {
    const root = topicRoot();
    const sub = await peers.connect();
    await sub.subscribe(`${root}/t`, 1);
    const pub = await peers.connect();
    // all 30 in flight at once: the broker may not reorder them while acknowledging
    for (let i = 1; i <= 30; i++)
      pub.send({
        cmd: 'publish',
        topic: `${root}/t`,
        payload: `m${i}`,
        qos: 1,
        messageId: i,
        retain: false,
        dup: false,
      });
    const got: string[] = [];
    for (let i = 1; i <= 30; i++) {
      const p = await sub.publishOn(`${root}/t`);
      if (!p) break;
      got.push(String(p.payload));
      sub.send({ cmd: 'puback', messageId: p.messageId! });
    }
    expect(got).toEqual(Array.from({ length: 30 }, (_, i) => `m${i + 1}`));
  });

  it('[MQTT-3.3.1-4] closes the connection on a PUBLISH with both QoS bits set', async () => {
    const pub = await peers.connect();
    const topic = Buffer.from(`${topicRoot()}/t`);
    pub.raw(Buffer.from([0x36, 2 + topic.length + 2 + 1, 0, topic.length, ...topic, 0, 7, 0x78]));
    expect(await pub.next('puback', 500)).toBeNull();
    expect(await pub.waitClosed()).toBe(true);
  });

  it('[MQTT-3.6.1-1] closes the connection on a PUBREL whose fixed header flags are not 0010', async () => {
    const pub = await peers.connect();
    pub.send({
      cmd: 'publish',
      topic: `${topicRoot()}/t`,
      payload: 'x',
      qos: 2,
      messageId: 9,
      retain: false,
      dup: false,
    });
    expect((await pub.next('pubrec'))?.messageId).toBe(9);
    pub.raw(Buffer.from([0x60, 0x02, 0x00, 0x09]));
    expect(await pub.next('pubcomp', 500)).toBeNull();
    expect(await pub.waitClosed()).toBe(true);
  });
});
