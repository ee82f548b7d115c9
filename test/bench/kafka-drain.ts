/**
 * npm run bench:kafka: drain a backlog of queued 200-byte messages from the
 * SQLite queue to a real local Kafka, per codec, against the rate the same
 * Kafka client reaches producing the same records straight from memory in
 * the same run (the ratio is the overhead of our queue and forwarder).
 * BENCH_RECORDS (default 1,000,000) sets the backlog size.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { ProduceAcks, Producer, stringSerializer } from '@platformatic/kafka';
import { pino } from 'pino';
import { Gateway } from '../../gateway/src/app.js';
import { parseConfig } from '../../gateway/src/config/load.js';
import type { QueuedMessage } from '../../gateway/src/contracts/record.js';
import { QueueStore } from '../../gateway/src/queue/store.js';
import { tempDir } from '../support/gateway-process.js';
import { startKafka } from '../support/kafka.js';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 1_000_000);
const DEVICES = 100;
const BATCH = 4000;
const codecs = ['none', 'gzip', 'snappy', 'lz4'] as const;

function fill(file: string): void {
  const store = new QueueStore({
    file,
    durability: 'process-crash',
    sinks: { k: { maxBytes: 10 * 2 ** 30, maxAgeMs: 0, whenFull: 'drop-oldest' } },
  });
  const payload = Buffer.alloc(200, 0x61);
  const now = Date.now();
  for (let i = 0; i < RECORDS; i += 10_000) {
    const groups: QueuedMessage[][] = [];
    for (let j = i; j < Math.min(RECORDS, i + 10_000); j++) {
      const d = `dev-${j % DEVICES}`;
      groups.push([
        {
          sink: 'k',
          route: 'bench',
          deviceId: d,
          topic: `devices/${d}/t`,
          receivedAt: now,
          contentType: 'application/octet-stream',
          payload,
        },
      ]);
    }
    store.commit(groups, []);
  }
  store.close();
}

async function drain(dataDir: string, bootstrap: string, codec: string): Promise<number> {
  const config = parseConfig(
    {
      dataDir,
      mqtt: { port: 0, host: '127.0.0.1' },
      status: { enabled: false },
      sinks: {
        k: {
          type: 'kafka',
          brokers: [bootstrap],
          topic: `drain-${codec}`,
          compression: codec,
          autocreateTopics: true,
          batch: { maxRecords: BATCH, maxBytes: '4MB', linger: 0 },
          maxMessageBytes: 1_000_000,
          queue: { maxBytes: '10GiB' },
        },
      },
      routes: { all: { from: '#', to: 'k' } },
    },
    'bench',
  );
  const gw = new Gateway(config, { logger: pino({ level: 'warn' }) });
  const t0 = performance.now();
  await gw.start();
  while (gw.queue.stats('k').count > 0) await new Promise((r) => setTimeout(r, 20));
  const seconds = (performance.now() - t0) / 1000;
  await gw.stop();
  return RECORDS / seconds;
}

async function fromMemory(bootstrap: string, codec: (typeof codecs)[number]): Promise<number> {
  const producer = new Producer<string, Buffer, string, string>({
    clientId: 'bench-memory',
    bootstrapBrokers: [bootstrap],
    serializers: { key: stringSerializer, headerKey: stringSerializer, headerValue: stringSerializer },
    idempotent: true,
    acks: ProduceAcks.ALL,
    compression: codec,
    autocreateTopics: true,
  });
  const payload = Buffer.alloc(200, 0x61);
  const t0 = performance.now();
  for (let i = 0; i < RECORDS; ) {
    const messages = [];
    // the same chunking as the sink: about 900 kB of records per produce request
    for (let n = 0; n < 2500 && i < RECORDS; n++, i++) {
      const d = `dev-${i % DEVICES}`;
      messages.push({
        topic: `memory-${codec}`,
        key: d,
        value: payload,
        headers: {
          'tidegate-id': `bench/${i}`,
          'tidegate-gateway': 'bench',
          'tidegate-device': d,
          'tidegate-topic': `devices/${d}/t`,
          'content-type': 'application/octet-stream',
        },
      });
    }
    await producer.send({ messages });
  }
  const rate = RECORDS / ((performance.now() - t0) / 1000);
  await producer.close();
  return rate;
}

const kafka = await startKafka();
try {
  const base = tempDir();
  const seed = join(base, 'seed.db');
  const t0 = performance.now();
  fill(seed);
  const fillSeconds = (performance.now() - t0) / 1000;
  const rows: string[] = [];
  for (const codec of codecs) {
    const mem = await fromMemory(kafka.bootstrap, codec);
    const dir = join(base, codec);
    mkdirSync(dir);
    copyFileSync(seed, join(dir, 'tidegate.db'));
    const q = await drain(dir, kafka.bootstrap, codec);
    const mb = (r: number) => ((r * 200) / 1e6).toFixed(1);
    rows.push(
      `| ${codec} | ${Math.round(q)} | ${mb(q)} | ${Math.round(mem)} | ${mb(mem)} | ${((q / mem) * 100).toFixed(0)}% |`,
    );
  }
  process.stdout.write(
    [
      `Machine: ${cpus().length} x ${cpus()[0]?.model ?? '?'}, Node ${process.version}; Kafka 4.1.1 single node on the same machine (JVM flags of the test harness).`,
      `Backlog: ${RECORDS} queued messages of 200 bytes from ${DEVICES} devices (filled in ${fillSeconds.toFixed(1)} s); batches of ${BATCH}.`,
      '',
      '| codec | queue -> Kafka msg/s | MB/s | memory -> Kafka msg/s | MB/s | ratio |',
      '|---|---|---|---|---|---|',
      ...rows,
      '',
    ].join('\n'),
  );
} finally {
  await kafka.stop();
}
