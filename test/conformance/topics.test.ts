/**
 * MQTT 3.1.1 topic filters and wildcards (4.7): what `#` and `+` match, `$` topics
 * kept from wildcards at the first level, no normalisation, invalid filters refused.
 * Against tidegate and Mosquitto (127.0.0.1:1883) as the reference.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { barrier, brokersUnderTest, Peers, topicRoot } from './peer.js';

const brokers = brokersUnderTest();

// topic names relative to a test's root, and which of them each filter must match
const TOPICS = [
  'sport',
  'sport/',
  'sports',
  'sport/tennis',
  'sport/tennis/player1',
  'sport/tennis/player1/ranking',
  'Sport/tennis',
];
const MATCHES: Array<[filter: string, statements: string, matched: string[]]> = [
  [
    'sport/#',
    '[MQTT-4.7.1-2] "sport/#" also matches the parent "sport" (4.7.1.2)',
    ['sport', 'sport/', 'sport/tennis', 'sport/tennis/player1', 'sport/tennis/player1/ranking'],
  ],
  ['#', '[MQTT-4.7.1-2] "#" alone matches every level', TOPICS],
  [
    'sport/+',
    '[MQTT-4.7.1-3] "sport/+" matches one level, an empty one too, and not "sport" (4.7.1.3)',
    ['sport/', 'sport/tennis'],
  ],
  ['sport/tennis/+', '[MQTT-4.7.1-3] "+" as the last level', ['sport/tennis/player1']],
  ['+', '[MQTT-4.7.1-3] "+" alone matches exactly one level', ['sport', 'sports']],
  [
    '+/tennis/#',
    '[MQTT-4.7.1-3] [MQTT-4.7.1-2] "+" and "#" together',
    ['sport/tennis', 'sport/tennis/player1', 'sport/tennis/player1/ranking', 'Sport/tennis'],
  ],
  ['sport', '[MQTT-4.7.3-4] no normalisation: case, trailing "/" and prefixes all count', ['sport']],
];

describe.each(brokers)('%s: topic filters', (_name, port) => {
  const peers = new Peers(port);
  afterAll(() => peers.closeAll());

  it.each(MATCHES)('%s: %s', async (filter, _statements, matched) => {
    const root = topicRoot();
    const fence = `${root}-barrier`;
    const sub = await peers.connect();
    expect(
      await sub.subscribe([
        [`${root}/${filter}`, 1],
        [fence, 0],
      ]),
    ).toEqual([1, 0]);
    const pub = await peers.connect();
    for (const [i, t] of TOPICS.entries()) await pub.publish(`${root}/${t}`, t, 1, false, i + 1);
    await barrier(pub, sub, fence);
    const got = sub.takePublishes(`${root}/`).map((p) => String(p.payload));
    expect(got.sort()).toEqual([...matched].sort());
  });

  it('[MQTT-4.7.2-1] does not match topics starting with "$" against filters starting with "#" or "+"', async () => {
    const root = topicRoot();
    const wild = await peers.connect();
    // "#" also brings every message on the shared Mosquitto for a moment: read, never written
    await wild.subscribe([
      ['#', 0],
      ['+/broker/#', 0],
      ['+/+/new/clients', 0],
    ]);
    const sys = await peers.connect();
    await sys.subscribe('$SYS/#', 0);
    // a new client makes aedes publish $SYS/<broker>/new/clients; Mosquitto keeps
    // $SYS/broker/... retained, which the subscriptions above would have been sent at once
    const pub = await peers.connect();
    await barrier(pub, wild, `${root}/barrier`);
    // the control: "$SYS/#" (an explicit first level) does get them
    expect(await sys.next('publish', 3000, (p) => p.topic.startsWith('$SYS/'))).not.toBeNull();
    expect(wild.takePublishes('$').map((p) => p.topic)).toEqual([]);
    wild.drop();
  });

  it.each([
    ['sport/#/ranking', '[MQTT-4.7.1-2] "#" not last'],
    ['sport/tennis#', '[MQTT-4.7.1-2] "#" not a whole level'],
    ['sport+', '[MQTT-4.7.1-3] "+" not a whole level'],
    ['+tennis/x', '[MQTT-4.7.1-3] "+" not a whole level'],
    ['', '[MQTT-4.7.3-1] empty filter'],
  ])(
    'refuses the invalid filter "%s" (%s) by closing the connection [MQTT-4.8.0-1], no SUBACK',
    async (filter) => {
      const root = topicRoot();
      const sub = await peers.connect();
      sub.send({
        cmd: 'subscribe',
        messageId: 5,
        subscriptions: [
          { topic: `${root}/fine`, qos: 0 },
          { topic: filter && `${root}/${filter}`, qos: 0 },
        ],
      });
      expect(await sub.next('suback', 1000)).toBeNull();
      expect(await sub.waitClosed()).toBe(true);
      // and it serves the next client
      expect(await (await peers.connect()).subscribe(`${root}/fine`, 0)).toEqual([0]);
    },
  );
});
