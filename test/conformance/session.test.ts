/**
 * MQTT 3.1.1 persistent sessions (clean session 0): what the server keeps for a
 * disconnected client and re-sends when it comes back (4.4, 4.5, 4.6), against
 * tidegate and Mosquitto (127.0.0.1:1883) as the reference. The subscriber drops its
 * connection without DISCONNECT, as a device losing its network does.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { barrier, brokersUnderTest, newId, type Peer, Peers, topicRoot } from './peer.js';

const brokers = brokersUnderTest();

/** Publishes at QoS 2 and completes the publisher's side of the exchange. */
async function publish2(pub: Peer, topic: string, payload: string, messageId: number): Promise<void> {
  pub.send({ cmd: 'publish', topic, payload, qos: 2, messageId, retain: false, dup: false });
  if (!(await pub.next('pubrec', 3000, (p) => p.messageId === messageId))) throw new Error('no PUBREC');
  pub.send({ cmd: 'pubrel', messageId });
  if (!(await pub.next('pubcomp', 3000, (p) => p.messageId === messageId))) throw new Error('no PUBCOMP');
}

describe.each(brokers)('%s: persistent sessions', (_name, port) => {
  const peers = new Peers(port);
  afterAll(() => peers.closeAll());

  /** Reconnects `clientId` with clean session 0 and checks the session was kept. */
  async function resume(clientId: string): Promise<Peer> {
    const p = await peers.open();
    const ack = await p.handshake({ clientId, clean: false });
    expect(ack).toMatchObject({ returnCode: 0, sessionPresent: true });
    return p;
  }

  it('[MQTT-4.4.0-1] [MQTT-3.3.1-1] [MQTT-4.6.0-1] re-sends unacknowledged QoS 1 and QoS 2 PUBLISH on reconnect, with their packet ids, DUP 1, in order', async () => {
    const root = topicRoot();
    const clientId = newId();
    const first = await peers.connect({ clientId, clean: false });
    await first.subscribe(`${root}/#`, 2);
    const pub = await peers.connect();
    await pub.publish(`${root}/a`, 'one', 1, false, 1);
    await publish2(pub, `${root}/b`, 'two', 2);
    await pub.publish(`${root}/c`, 'three', 1, false, 3);
    const sent = [await first.publishOn(`${root}/a`), await first.publishOn(`${root}/b`)];
    const third = await first.publishOn(`${root}/c`);
    // the third is acknowledged: it must not come back
    first.send({ cmd: 'puback', messageId: third!.messageId! });
    await new Promise((r) => setTimeout(r, 100));
    first.drop();

    const again = await resume(clientId);
    const resent = [await again.publishOn(`${root}/a`), await again.publishOn(`${root}/b`)];
    expect(resent.map((p) => [p?.messageId, p?.qos, p?.dup, String(p?.payload)])).toEqual(
      sent.map((p) => [p?.messageId, p?.qos, true, String(p?.payload)]),
    );
    again.send({ cmd: 'puback', messageId: resent[0]!.messageId! });
    again.send({ cmd: 'pubrec', messageId: resent[1]!.messageId! });
    expect((await again.next('pubrel'))?.messageId).toBe(resent[1]!.messageId);
    again.send({ cmd: 'pubcomp', messageId: resent[1]!.messageId! });
    await barrier(pub, again, `${root}/z`);
    expect(again.takePublishes().map((p) => p.topic)).toEqual([]);
  });

  it('[MQTT-4.4.0-1] re-sends an unacknowledged PUBREL on reconnect with its packet id, and not the PUBLISH', async () => {
    const root = topicRoot();
    const clientId = newId();
    const first = await peers.connect({ clientId, clean: false });
    await first.subscribe(`${root}/t`, 2);
    const pub = await peers.connect();
    await publish2(pub, `${root}/t`, 'x', 1);
    const got = await first.publishOn(`${root}/t`);
    first.send({ cmd: 'pubrec', messageId: got!.messageId! });
    expect((await first.next('pubrel'))?.messageId).toBe(got!.messageId);
    first.drop(); // before PUBCOMP

    // tidegate closed this connection at once before the fix: re-sending the stored PUBREL
    // failed in the session store, on every reconnect
    const again = await resume(clientId);
    expect((await again.next('pubrel'))?.messageId).toBe(got!.messageId);
    again.send({ cmd: 'pubcomp', messageId: got!.messageId! });
    await new Promise((r) => setTimeout(r, 100));
    again.drop();
    // completed: the third connection gets nothing for it
    const third = await resume(clientId);
    await barrier(pub, third, `${root}/t`);
    expect(third.inbox.map((p) => p.cmd)).toEqual([]);
  });

  it('[MQTT-4.5.0-1] [MQTT-4.6.0-6] keeps QoS 1 and 2 messages that arrive while the client is away and delivers them in order, DUP 0, on reconnect', async () => {
    const root = topicRoot();
    const clientId = newId();
    const first = await peers.connect({ clientId, clean: false });
    await first.subscribe(`${root}/#`, 2);
    first.drop();
    await new Promise((r) => setTimeout(r, 100));
    const pub = await peers.connect();
    await pub.publish(`${root}/a`, 'one', 1, false, 1);
    await publish2(pub, `${root}/b`, 'two', 2);
    await pub.publish(`${root}/c`, 'three', 1, false, 3);

    const again = await resume(clientId);
    const got: Array<[string, number, boolean]> = [];
    for (let i = 0; i < 3; i++) {
      const p = await again.next('publish');
      if (!p) break;
      got.push([String(p.payload), p.qos, p.dup]);
      if (p.qos === 1) again.send({ cmd: 'puback', messageId: p.messageId! });
      else again.send({ cmd: 'pubrec', messageId: p.messageId! });
    }
    // a first delivery: DUP 0 ([MQTT-3.3.1-1] asks DUP 1 only for a re-delivery)
    expect(got).toEqual([
      ['one', 1, false],
      ['two', 2, false],
      ['three', 1, false],
    ]);
  });

  it('[MQTT-3.8.4-6] [MQTT-3.3.5-1] queues one copy per offline client, at the granted QoS, through wildcard and overlapping filters', async () => {
    const root = topicRoot();
    const clientId = newId();
    const first = await peers.connect({ clientId, clean: false });
    await first.subscribe([
      [`${root}/w/+`, 1],
      [`${root}/o/#`, 1],
      [`${root}/o/+`, 2],
    ]);
    first.drop();
    await new Promise((r) => setTimeout(r, 100));
    const pub = await peers.connect();
    await publish2(pub, `${root}/w/x`, 'w', 1);
    await publish2(pub, `${root}/o/x`, 'o', 2);

    const again = await resume(clientId);
    await again.subscribe(`${root}/barrier`, 0, 9);
    await barrier(pub, again, `${root}/barrier`);
    // tidegate queued w at QoS 2 and o twice before perClient() in persistence.ts (aedes passes
    // one entry per subscription and the published QoS); Mosquitto does as below: right
    expect(again.takePublishes(root).map((p) => [p.topic.slice(root.length), p.qos])).toEqual([
      ['/w/x', 1],
      ['/o/x', 2],
    ]);
  });

  it('[MQTT-3.1.2-6] [MQTT-4.4.0-1] re-sends nothing to a client that comes back with clean session 1', async () => {
    const root = topicRoot();
    const clientId = newId();
    const first = await peers.connect({ clientId, clean: false });
    await first.subscribe(`${root}/t`, 1);
    const pub = await peers.connect();
    await pub.publish(`${root}/t`, 'x', 1);
    expect(await first.publishOn(`${root}/t`)).not.toBeNull();
    first.drop(); // unacknowledged
    await new Promise((r) => setTimeout(r, 100));
    const clean = await peers.open();
    expect(await clean.handshake({ clientId, clean: true })).toMatchObject({
      returnCode: 0,
      sessionPresent: false,
    });
    // and the subscription went with the session: a new message does not arrive either
    await clean.subscribe(`${root}/z`, 0);
    await pub.publish(`${root}/t`, 'y', 1);
    await barrier(pub, clean, `${root}/z`);
    expect(clean.takePublishes().map((p) => String(p.payload))).toEqual([]);
  });
});
