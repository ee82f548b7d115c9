// Real Kafka broker (test/support/kafka.ts) + @platformatic/kafka@1: what the Kafka sink relies on.
import zlib from 'node:zlib';
import {
  type CompressionAlgorithmValue,
  Consumer,
  type Message,
  MessagesStreamModes,
  ProduceAcks,
  Producer,
  type SASLOptions,
  stringDeserializer,
  stringSerializer,
} from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTopic, type KafkaBroker, startKafka } from '../support/kafka.js';

type Msg = Message<string, Buffer, string, string>;

const N = 100;
const serializers = { key: stringSerializer, headerKey: stringSerializer, headerValue: stringSerializer };
const deserializers = {
  key: stringDeserializer,
  headerKey: stringDeserializer,
  headerValue: stringDeserializer,
};

let kafka: KafkaBroker;
let clientSeq = 0;

function producer(
  bootstrap: string,
  opts: { sasl?: SASLOptions; compression?: CompressionAlgorithmValue } = {},
) {
  return new Producer<string, Buffer, string, string>({
    clientId: `harness-p${++clientSeq}`,
    bootstrapBrokers: [bootstrap],
    serializers,
    idempotent: true,
    acks: ProduceAcks.ALL,
    ...opts,
  });
}

function record(topic: string, i: number) {
  return {
    topic,
    key: `dev-${i % 7}`,
    value: Buffer.from(JSON.stringify({ i, t: 20.5 + i })),
    headers: { seq: String(i), 'content-type': 'application/json' },
  };
}

/** Reads `n` records of `topic` from the beginning with a fresh consumer group. */
async function consume(bootstrap: string, topic: string, n: number, sasl?: SASLOptions): Promise<Msg[]> {
  const consumer = new Consumer<string, Buffer, string, string>({
    groupId: `harness-g${++clientSeq}`,
    clientId: `harness-c${clientSeq}`,
    bootstrapBrokers: [bootstrap],
    deserializers,
    maxWaitTime: 200,
    ...(sasl ? { sasl } : {}),
  });
  try {
    const stream = await consumer.consume({ topics: [topic], mode: MessagesStreamModes.EARLIEST });
    const got: Msg[] = [];
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`got ${got.length}/${n} records of ${topic}`)),
          30_000,
        );
        stream.on('data', (m: Msg) => {
          got.push(m);
          if (got.length >= n) {
            clearTimeout(timer);
            resolve();
          }
        });
        stream.once('error', (err: Error) => {
          clearTimeout(timer);
          reject(err);
        });
      });
    } finally {
      await stream.close();
    }
    return got;
  } finally {
    await consumer.close(true);
  }
}

function checkRecords(got: Msg[], topic: string): void {
  expect(got).toHaveLength(N);
  const seen = new Set<number>();
  const lastSeqByKey = new Map<string, number>();
  const partitionByKey = new Map<string, number>();
  const lastOffsetByPartition = new Map<number, bigint>();
  for (const m of got) {
    const seq = Number(m.headers.get('seq'));
    expect(m.topic).toBe(topic);
    expect(m.key).toBe(`dev-${seq % 7}`);
    expect(m.headers.get('content-type')).toBe('application/json');
    expect(JSON.parse(m.value.toString('utf8'))).toEqual({ i: seq, t: 20.5 + seq });
    // per-key order, key -> partition stickiness, per-partition offset order
    expect(seq).toBeGreaterThan(lastSeqByKey.get(m.key) ?? -1);
    lastSeqByKey.set(m.key, seq);
    expect(partitionByKey.get(m.key) ?? m.partition).toBe(m.partition);
    partitionByKey.set(m.key, m.partition);
    expect(m.offset).toBeGreaterThan(lastOffsetByPartition.get(m.partition) ?? -1n);
    lastOffsetByPartition.set(m.partition, m.offset);
    seen.add(seq);
  }
  expect(seen.size).toBe(N);
}

/** Every error in an @platformatic/kafka error tree (MultipleErrors.errors and `cause`). */
function errorChain(err: unknown): Error[] {
  const out: Error[] = [];
  const walk = (e: unknown): void => {
    if (!(e instanceof Error) || out.includes(e)) return;
    out.push(e);
    if (e instanceof AggregateError) for (const sub of e.errors) walk(sub);
    walk(e.cause);
  };
  walk(err);
  return out;
}

describe('kafka harness (real broker)', () => {
  beforeAll(async () => {
    kafka = await startKafka();
  }, 120_000);

  afterAll(async () => {
    await kafka?.stop();
  }, 60_000);

  for (const compression of ['none', 'gzip', 'snappy', 'lz4'] as const) {
    it(`PLAINTEXT, idempotent, acks=all, ${compression}: 100 keyed records with headers round-trip`, async () => {
      const topic = `plain-${compression}`;
      await createTopic(kafka.bootstrap, topic, 3);
      const p = producer(kafka.bootstrap, { compression });
      try {
        // two sends: the second one checks idempotent sequence numbers carry over between batches
        const first = await p.send({ messages: Array.from({ length: N / 2 }, (_, i) => record(topic, i)) });
        const second = await p.send({
          messages: Array.from({ length: N / 2 }, (_, i) => record(topic, i + N / 2)),
        });
        expect(first.offsets?.length).toBeGreaterThan(0);
        expect(second.offsets?.length).toBeGreaterThan(0);
        expect(p.producerId).toBeTypeOf('bigint');
      } finally {
        await p.close();
      }
      checkRecords(await consume(kafka.bootstrap, topic, N), topic);
    });
  }

  it('zstd works only where node:zlib has zstd (Node >= 22.15); on Node 20 send() rejects', async () => {
    const p = producer(kafka.bootstrap, { compression: 'zstd' });
    try {
      const send = p.send({ messages: [record('plain-zstd', 0)], autocreateTopics: true });
      if (typeof (zlib as { zstdCompressSync?: unknown }).zstdCompressSync === 'function') {
        await expect(send).resolves.toBeDefined();
      } else {
        const err = await send.then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(errorChain(err).map((e) => e.message)).toContain(
          'zstd is not supported in the current Node.js version',
        );
      }
    } finally {
      await p.close();
    }
  });

  it('SASL_PLAINTEXT PLAIN: 100 records produced and consumed in order over the SASL listener', async () => {
    const sasl: SASLOptions = { mechanism: 'PLAIN', username: kafka.saslUser, password: kafka.saslPassword };
    const topic = 'sasl-ordered';
    await createTopic(kafka.bootstrap, topic, 1);
    const p = producer(kafka.saslBootstrap, { sasl, compression: 'lz4' });
    try {
      await p.send({ messages: Array.from({ length: N }, (_, i) => record(topic, i)) });
    } finally {
      await p.close();
    }
    const got = await consume(kafka.saslBootstrap, topic, N, sasl);
    checkRecords(got, topic);
    expect(got.map((m) => Number(m.headers.get('seq')))).toEqual(Array.from({ length: N }, (_, i) => i));
    expect(got.map((m) => m.offset)).toEqual(Array.from({ length: N }, (_, i) => BigInt(i)));
  });

  it('SASL PLAIN with a wrong password fails with an authentication error', async () => {
    const p = new Producer({
      clientId: 'harness-badpw',
      bootstrapBrokers: [kafka.saslBootstrap],
      sasl: { mechanism: 'PLAIN', username: kafka.saslUser, password: 'wrong' },
      retries: 0, // auth errors are wrapped in a retriable NetworkError: without this the client retries them
    });
    try {
      const err = await p.send({ messages: [{ topic: 'sasl-ordered', value: Buffer.from('x') }] }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(Error);
      const chain = errorChain(err);
      const auth = chain.find((e) => (e as { code?: string }).code === 'PLT_KFK_AUTHENTICATION');
      expect(auth?.constructor.name).toBe('AuthenticationError');
      expect(auth?.message).toBe('SASL authentication failed.');
      const server = chain.find(
        (e) => (e as { serverErrorMessage?: string }).serverErrorMessage !== undefined,
      );
      expect((server as { serverErrorMessage?: string } | undefined)?.serverErrorMessage).toBe(
        'Authentication failed: Invalid username or password',
      );
    } finally {
      await p.close();
    }
  });

  it('kill() + restart(): same ports and data, an idempotent send pending during the outage lands once', async () => {
    const topic = 'outage';
    await createTopic(kafka.bootstrap, topic, 1);
    const p = producer(kafka.bootstrap, { compression: 'gzip' });
    try {
      await p.send({ messages: Array.from({ length: N / 2 }, (_, i) => record(topic, i)) });
      const before = { bootstrap: kafka.bootstrap, sasl: kafka.saslBootstrap };
      await kafka.kill();
      // idempotent producer: retries default to "forever" (retryDelay 1 s), so this waits for the broker
      const pending = p.send({ messages: Array.from({ length: N / 2 }, (_, i) => record(topic, i + N / 2)) });
      await new Promise((r) => setTimeout(r, 1_500));
      await kafka.restart();
      expect({ bootstrap: kafka.bootstrap, sasl: kafka.saslBootstrap }).toEqual(before);
      await pending;
    } finally {
      await p.close();
    }
    const got = await consume(kafka.bootstrap, topic, N);
    checkRecords(got, topic);
    expect(got.map((m) => m.offset)).toEqual(Array.from({ length: N }, (_, i) => BigInt(i)));
  }, 120_000);
});
