/**
 * The Kafka sink against a real Apache Kafka broker (KRaft, started by the
 * harness): keys, headers, order, codecs, SASL, missing topic, oversize
 * records, and an outage of the broker while devices publish.
 */
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../gateway/src/app.js';
import { startInProcess, until } from '../support/in-process.js';
import { createTopic, type KafkaBroker, startKafka } from '../support/kafka.js';
import { consumeAll } from '../support/kafka-consume.js';

let kafka: KafkaBroker;
const cleanup: Array<() => Promise<unknown>> = [];
beforeAll(async () => {
  kafka = await startKafka();
});
afterAll(async () => {
  for (const f of cleanup.reverse()) await f();
  await kafka?.stop();
});

async function publish(gw: Gateway, device: string, n: number, from = 0, size = 0) {
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.broker.port}`, {
    clientId: device,
    reconnectPeriod: 0,
  });
  for (let i = from; i < from + n; i++) {
    await c.publishAsync(`devices/${device}/telemetry`, JSON.stringify({ i, pad: 'x'.repeat(size) }), {
      qos: 1,
    });
  }
  await c.endAsync();
}

const fast = { retry: { initialDelay: 50, maxDelay: 300 }, batch: { linger: '20ms' } };

async function drained(gw: Gateway, timeoutMs = 20_000) {
  await until(
    async () => (await gw.snapshot()).sinks.every((s) => s.backlogMessages === 0),
    timeoutMs,
    'drain',
  );
}

describe('Kafka sink', () => {
  it('sends each record keyed by device with id, gateway, device, topic and content-type headers, in order', async () => {
    const gw = await startInProcess({
      gatewayId: 'gw-k1',
      sinks: {
        k: {
          type: 'kafka',
          brokers: [kafka.bootstrap],
          topic: 'telemetry.{deviceId}',
          autocreateTopics: true,
          ...fast,
        },
      },
      routes: { all: { from: 'devices/#', to: 'k' } },
    });
    cleanup.push(() => gw.stop());
    await Promise.all([publish(gw, 'd1', 40), publish(gw, 'd2', 40)]);
    await drained(gw);
    const got = await consumeAll(kafka.bootstrap, ['telemetry.d1', 'telemetry.d2'], 80);
    expect(got).toHaveLength(80);
    for (const d of ['d1', 'd2']) {
      const mine = got.filter((m) => m.key === d);
      expect(mine.every((m) => m.topic === `telemetry.${d}`)).toBe(true);
      expect(mine.map((m) => (JSON.parse(m.value.toString()) as { i: number }).i)).toEqual([
        ...Array(40).keys(),
      ]);
      expect(mine[0]!.headers).toMatchObject({
        'tidegate-gateway': 'gw-k1',
        'tidegate-device': d,
        'tidegate-topic': `devices/${d}/telemetry`,
        'content-type': 'application/json',
      });
      expect(mine[0]!.headers['tidegate-id']).toMatch(/^gw-k1\/\d+$/);
    }
    expect(new Set(got.map((m) => m.headers['tidegate-id'])).size).toBe(80);
  });

  it('compresses with gzip, snappy and lz4 and every codec arrives intact', async () => {
    const codecs = ['gzip', 'snappy', 'lz4'] as const;
    const sinks = Object.fromEntries(
      codecs.map((c) => [
        c,
        {
          type: 'kafka',
          brokers: [kafka.bootstrap],
          topic: `codec-${c}`,
          compression: c,
          autocreateTopics: true,
          ...fast,
        },
      ]),
    );
    const routes = Object.fromEntries(codecs.map((c) => [`r-${c}`, { from: 'devices/#', to: c }]));
    const gw = await startInProcess({ sinks, routes });
    cleanup.push(() => gw.stop());
    await publish(gw, 'c1', 30, 0, 300);
    await drained(gw);
    for (const c of codecs) {
      const got = await consumeAll(kafka.bootstrap, [`codec-${c}`], 30);
      expect(got.map((m) => (JSON.parse(m.value.toString()) as { i: number }).i)).toEqual([
        ...Array(30).keys(),
      ]);
    }
  });

  it('authenticates with SASL PLAIN, and a wrong password is a clear error on the sink while the data waits', async () => {
    const sasl = (password: string) => ({ mechanism: 'PLAIN', username: kafka.saslUser, password });
    const gw = await startInProcess({
      sinks: {
        good: {
          type: 'kafka',
          brokers: [kafka.saslBootstrap],
          sasl: sasl(kafka.saslPassword),
          topic: 'sasl-good',
          autocreateTopics: true,
          ...fast,
        },
        bad: {
          type: 'kafka',
          brokers: [kafka.saslBootstrap],
          sasl: sasl('wrong'),
          topic: 'sasl-bad',
          autocreateTopics: true,
          ...fast,
        },
      },
      routes: { g: { from: '#', to: 'good' }, b: { from: '#', to: 'bad' } },
    });
    cleanup.push(() => gw.stop());
    await publish(gw, 's1', 10);
    const bad = await until(
      async () => {
        const s = (await gw.snapshot()).sinks.find((x) => x.name === 'bad')!;
        return s.lastError?.includes('SASL authentication failed') ? s : null;
      },
      20_000,
      'auth error',
    );
    expect(bad.lastError).toContain('Invalid username or password');
    expect(bad.backlogMessages).toBe(10);
    await until(
      async () => (await gw.snapshot()).sinks.find((x) => x.name === 'good')!.backlogMessages === 0,
    );
    expect(await consumeAll(kafka.bootstrap, ['sasl-good'], 10)).toHaveLength(10);
  });

  it.each(['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const)(
    'delivers over TLS with SASL %s (SASL_SSL)',
    async (mechanism) => {
      const topic = `tls-${mechanism.toLowerCase()}`;
      const gw = await startInProcess({
        sinks: {
          k: {
            type: 'kafka',
            brokers: [kafka.tlsBootstrap],
            tls: { ca: kafka.tlsCaFile },
            sasl: { mechanism, username: kafka.saslUser, password: kafka.saslPassword },
            topic,
            autocreateTopics: true,
            ...fast,
          },
        },
        routes: { all: { from: '#', to: 'k' } },
      });
      cleanup.push(() => gw.stop());
      await publish(gw, 'tls1', 10);
      await drained(gw);
      const got = await consumeAll(kafka.bootstrap, [topic], 10);
      expect(got.map((m) => (JSON.parse(m.value.toString()) as { i: number }).i)).toEqual([
        ...Array(10).keys(),
      ]);
      expect((await gw.snapshot()).sinks[0]!.details).toMatchObject({ tls: true, sasl: mechanism });
    },
  );

  it('names a missing topic on the sink status, then drains by itself once the topic exists', async () => {
    const gw = await startInProcess({
      sinks: { k: { type: 'kafka', brokers: [kafka.bootstrap], topic: 'not-yet-there', ...fast } },
      routes: { all: { from: '#', to: 'k' } },
    });
    cleanup.push(() => gw.stop());
    await publish(gw, 'm1', 5);
    const s = await until(
      async () => {
        const x = (await gw.snapshot()).sinks[0]!;
        return x.lastError?.includes('does not exist') ? x : null;
      },
      20_000,
      'missing topic error',
    );
    expect(s.lastError).toContain('not-yet-there');
    await createTopic(kafka.bootstrap, 'not-yet-there', 1);
    await drained(gw);
    expect(await consumeAll(kafka.bootstrap, ['not-yet-there'], 5)).toHaveLength(5);
  });

  it('dead-letters a record over maxMessageBytes without wedging the queue', async () => {
    const gw = await startInProcess({
      sinks: {
        k: {
          type: 'kafka',
          brokers: [kafka.bootstrap],
          topic: 'big',
          autocreateTopics: true,
          maxMessageBytes: 2000,
          ...fast,
        },
      },
      routes: { all: { from: '#', to: 'k' } },
    });
    cleanup.push(() => gw.stop());
    await publish(gw, 'b1', 1, 0, 10);
    await publish(gw, 'b1', 1, 1, 5000);
    await publish(gw, 'b1', 1, 2, 10);
    await drained(gw);
    const got = await consumeAll(kafka.bootstrap, ['big'], 2);
    expect(got.map((m) => (JSON.parse(m.value.toString()) as { i: number }).i)).toEqual([0, 2]);
    expect((await gw.snapshot()).sinks[0]!.dropped).toEqual({ dead_lettered: 1 });
  });
});

describe('Kafka sink through a broker outage', () => {
  it('buffers while Kafka is down and delivers everything in per-device order when it returns', async () => {
    const own = await startKafka();
    cleanup.push(() => own.stop());
    const gw = await startInProcess({
      sinks: {
        k: {
          type: 'kafka',
          brokers: [own.bootstrap],
          topic: 'outage',
          autocreateTopics: true,
          sendTimeout: '5s',
          ...fast,
        },
      },
      routes: { all: { from: 'devices/#', to: 'k' } },
    });
    cleanup.push(() => gw.stop());
    await publish(gw, 'o1', 20);
    await drained(gw);
    await own.shutdown();
    await Promise.all([publish(gw, 'o1', 100, 20), publish(gw, 'o2', 100)]);
    const during = await until(
      async () => {
        const s = (await gw.snapshot()).sinks[0]!;
        return s.state !== 'up' ? s : null;
      },
      20_000,
      'sink down',
    );
    expect(during.backlogMessages).toBeGreaterThan(0);
    expect(during.lastError).toBeTruthy();
    await own.restart();
    await drained(gw, 60_000);
    const got = await consumeAll(own.bootstrap, ['outage'], 220);
    for (const [d, n] of [
      ['o1', 120],
      ['o2', 100],
    ] as const) {
      const seq = got
        .filter((m) => m.key === d)
        .map((m) => (JSON.parse(m.value.toString()) as { i: number }).i);
      const firstSeen = seq.filter((v, i) => seq.indexOf(v) === i);
      expect(firstSeen).toEqual([...Array(n).keys()]);
    }
    const ids = got.map((m) => m.headers['tidegate-id']);
    console.log(
      `kafka outage: ${got.length} records upstream, ${ids.length - new Set(ids).size} duplicates (same id)`,
    );
  });
});
