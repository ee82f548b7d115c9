/**
 * Where the verifier reads what arrived upstream: a file sink folder, a Kafka
 * topic, or an MQTT subscription. Each turns upstream records into Arrivals
 * (in arrival order); anything that is not a simulated message is counted
 * as foreign, never fatal.
 */
import { readFile } from 'node:fs/promises';
import { Consumer, MessagesStreamModes, stringDeserializer } from '@platformatic/kafka';
import { decode } from 'cbor-x';
import mqtt, { type MqttClient } from 'mqtt';
import type { RecordEnvelope } from '../../../gateway/src/contracts/record.js';
import { listSinkFiles } from '../../../gateway/src/forward/sinks/file/sink.js';
import { decodePayload, payloadOfEnvelope, type SimPayload } from '../contract.js';
import type { Arrival } from './verify.js';

export interface Collected {
  arrivals: Arrival[];
  foreign: number;
  /** what the latency percentiles measure for this source */
  latencyBasis: string;
}

const toArrival = (p: SimPayload, arrivedAt: number | null): Arrival => ({
  run: p.run,
  dev: p.dev,
  seq: p.seq,
  sentAt: p.ts,
  arrivedAt,
});

/**
 * A file sink folder: every NDJSON line is a RecordEnvelope. The file sink
 * keeps no write time, so latency here is send -> gateway receive (receivedAt).
 */
export async function readFileSource(dir: string): Promise<Collected> {
  let files: string[];
  try {
    files = await listSinkFiles(dir);
  } catch (err) {
    throw new Error(`cannot read file sink folder ${dir}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
  const out: Collected = { arrivals: [], foreign: 0, latencyBasis: 'send -> gateway receive (file sink)' };
  for (const f of files) {
    for (const line of (await readFile(f, 'utf8')).split('\n')) {
      if (!line.trim()) continue;
      let env: RecordEnvelope;
      try {
        env = JSON.parse(line) as RecordEnvelope;
      } catch {
        // a torn last line after a crash: the record was not acknowledged upstream, so it is resent
        out.foreign++;
        continue;
      }
      const p = payloadOfEnvelope(env);
      if (p) out.arrivals.push(toArrival(p, typeof env.receivedAt === 'number' ? env.receivedAt : null));
      else out.foreign++;
    }
  }
  return out;
}

/** Sim payloads in one upstream message body: raw, one envelope, or a packed array of envelopes (JSON/CBOR). */
export function payloadsInBody(body: Buffer): { payloads: SimPayload[]; foreign: number } {
  const direct = decodePayload(body);
  if (direct) return { payloads: [direct], foreign: 0 };
  let v: unknown;
  try {
    v = body[0] === 0x7b || body[0] === 0x5b ? JSON.parse(body.toString('utf8')) : decode(body);
  } catch {
    return { payloads: [], foreign: 1 };
  }
  const items = Array.isArray(v) ? v : [v];
  const out = { payloads: [] as SimPayload[], foreign: 0 };
  for (const item of items) {
    const env = item as RecordEnvelope & { payload?: unknown };
    const p =
      env?.payload instanceof Uint8Array
        ? decodePayload(env.payload)
        : typeof env === 'object' && env !== null
          ? payloadOfEnvelope(env)
          : null;
    if (p) out.payloads.push(p);
    else out.foreign++;
  }
  return out;
}

export interface KafkaSourceOptions {
  brokers: string[];
  topics: string[];
  /** stop after this many ms without a new record (once at least `expect` arrived) */
  idleMs?: number;
  /** stop waiting for records after this long in all */
  timeoutMs?: number;
  /** how many records to wait for before the idle rule applies */
  expect?: number;
}

/** Reads the topics from the beginning with a throw-away consumer group; latency uses the record timestamp. */
export async function readKafkaSource(o: KafkaSourceOptions): Promise<Collected> {
  const consumer = new Consumer<string, Buffer, string, string>({
    groupId: `tidegate-sim-verify-${process.pid}-${Date.now()}`,
    clientId: 'tidegate-sim-verify',
    bootstrapBrokers: o.brokers,
    maxWaitTime: 200,
    deserializers: {
      key: stringDeserializer,
      headerKey: stringDeserializer,
      headerValue: stringDeserializer,
    },
  });
  const out: Collected = { arrivals: [], foreign: 0, latencyBasis: 'send -> Kafka record timestamp' };
  const idleMs = o.idleMs ?? 3000;
  const deadline = Date.now() + (o.timeoutMs ?? 60_000);
  try {
    const stream = await consumer.consume({ topics: o.topics, mode: MessagesStreamModes.EARLIEST });
    let last = Date.now();
    let records = 0;
    stream.on('data', (m) => {
      last = Date.now();
      records++;
      const { payloads, foreign } = payloadsInBody(m.value);
      out.foreign += foreign;
      for (const p of payloads) out.arrivals.push(toArrival(p, Number(m.timestamp)));
    });
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      if (records >= (o.expect ?? 0) && Date.now() - last >= idleMs) break;
    }
    await stream.close();
  } finally {
    await consumer.close(true);
  }
  return out;
}

/**
 * An MQTT subscription that collects from its start (a persistent session, so
 * an upstream broker restart does not lose what it queued for us).
 */
export class MqttCollector {
  private client: MqttClient | null = null;
  private last = Date.now();
  readonly collected: Collected = {
    arrivals: [],
    foreign: 0,
    latencyBasis: 'send -> MQTT subscriber receipt',
  };

  constructor(
    private readonly url: string,
    private readonly filter: string,
    private readonly clientId = `tidegate-sim-verify-${process.pid}`,
  ) {}

  async start(): Promise<void> {
    const client = await mqtt.connectAsync(this.url, {
      clientId: this.clientId,
      clean: false,
      reconnectPeriod: 500,
    });
    this.client = client;
    client.on('message', (_topic, body) => {
      this.last = Date.now();
      const { payloads, foreign } = payloadsInBody(body);
      this.collected.foreign += foreign;
      for (const p of payloads) this.collected.arrivals.push(toArrival(p, Date.now()));
    });
    await client.subscribeAsync(this.filter, { qos: 1 });
  }

  /** Waits until `expect` arrivals and then `idleMs` of silence, or the timeout. */
  async settle(expect: number, idleMs = 2000, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.collected.arrivals.length >= expect && Date.now() - this.last >= idleMs) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stop(): Promise<void> {
    const c = this.client;
    this.client = null;
    if (c) await c.endAsync();
  }
}
