/**
 * The Kafka sink (@platformatic/kafka 1): key = device id, so each device's
 * records stay in one partition, in order; acks=all; idempotent producer.
 * Headers carry the record id (for de-duplication), gateway, device, MQTT
 * topic and content type.
 *
 * The idempotent client retries a failing produce forever and keeps its
 * sequence numbers, so after any failure or deadline we close the producer and
 * open a new one (new producer id): the forwarder then resends the batch.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { ProduceAcks, Producer, stringSerializer } from '@platformatic/kafka';
import { bytes } from '../../../config/units.js';
import { recordId, type StoredRecord } from '../../../contracts/record.js';
import { SinkError } from '../../../errors.js';
import { fillTemplate } from '../../encode.js';
import type { SendContext, Sink, SinkFactory } from '../../sink.js';
import { connectionFor, type KafkaConnection, type KafkaSinkConfig } from './config.js';
import { describeKafkaError } from './errors.js';

type KafkaProducer = Producer<string, Buffer, string, string>;

/** Per-record bytes on the wire beyond key and value: record header, our five headers. */
const RECORD_OVERHEAD = 160;

export class KafkaSink implements Sink {
  readonly type = 'kafka';
  private producer: KafkaProducer | null = null;
  private readonly conn: KafkaConnection;
  private readonly maxMessageBytes: number;
  private lastError: string | null = null;

  constructor(
    private readonly name: string,
    private readonly config: KafkaSinkConfig,
    private readonly gatewayId: string,
  ) {
    this.conn = connectionFor(config);
    this.maxMessageBytes = bytes(config.maxMessageBytes);
  }

  private tls(): ConnectionOptions | undefined {
    const t = this.conn.tls;
    if (t === false) return undefined;
    if (t === true) return {};
    return {
      ca: t.ca ? readFileSync(t.ca) : undefined,
      cert: t.cert ? readFileSync(t.cert) : undefined,
      key: t.key ? readFileSync(t.key) : undefined,
      rejectUnauthorized: t.rejectUnauthorized,
    };
  }

  private open(): KafkaProducer {
    if (this.producer) return this.producer;
    this.producer = new Producer<string, Buffer, string, string>({
      clientId: this.config.clientId ?? `tidegate-${this.gatewayId}`,
      bootstrapBrokers: this.conn.brokers,
      sasl: this.conn.sasl,
      tls: this.tls(),
      serializers: { key: stringSerializer, headerKey: stringSerializer, headerValue: stringSerializer },
      idempotent: this.config.idempotent,
      acks: ProduceAcks.ALL,
      compression: this.config.compression,
      autocreateTopics: this.config.autocreateTopics,
      // a few quick retries inside the client; longer outages are the forwarder's backoff
      retries: 3,
      retryDelay: 250,
      connectTimeout: 5000,
    });
    return this.producer;
  }

  private async reset(): Promise<void> {
    const p = this.producer;
    this.producer = null;
    if (p) await new Promise<void>((resolve) => p.close(true, () => resolve()));
  }

  async start(): Promise<void> {
    this.open();
  }

  topicFor(r: StoredRecord, gatewayId: string): string {
    const template = this.config.topic ?? this.conn.defaultTopic;
    // MQTT levels become dots: Kafka topic names allow [a-zA-Z0-9._-]
    return fillTemplate(template, { ...r, topic: r.topic.replace(/\//g, '.') }, gatewayId).replace(
      /[^a-zA-Z0-9._-]/g,
      '_',
    );
  }

  async send(records: StoredRecord[], ctx: SendContext) {
    const deadLetters: Array<{ seq: number; reason: string }> = [];
    const chunks: Array<Array<Parameters<KafkaProducer['send']>[0]['messages'][number]>> = [[]];
    let chunkBytes = 0;
    for (const r of records) {
      const size = r.payload.length + Buffer.byteLength(r.deviceId) + RECORD_OVERHEAD + r.topic.length;
      if (size > this.maxMessageBytes) {
        deadLetters.push({
          seq: r.seq,
          reason: `record of ${size} bytes is over maxMessageBytes ${this.maxMessageBytes}`,
        });
        continue;
      }
      // keep each produce request under the broker's limit
      if (chunkBytes + size > this.maxMessageBytes * 0.9 && chunks.at(-1)!.length > 0) {
        chunks.push([]);
        chunkBytes = 0;
      }
      chunkBytes += size;
      chunks.at(-1)!.push({
        topic: this.topicFor(r, ctx.gatewayId),
        key: r.deviceId,
        value: r.payload,
        headers: {
          'tidegate-id': recordId(ctx.gatewayId, r.seq),
          'tidegate-gateway': ctx.gatewayId,
          'tidegate-device': r.deviceId,
          'tidegate-topic': r.topic,
          'content-type': r.contentType,
        },
      });
    }
    const producer = this.open();
    const onAbort = () => void this.reset();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    try {
      for (const messages of chunks) {
        if (messages.length === 0) continue;
        await producer.send({ messages });
      }
      this.lastError = null;
    } catch (err) {
      await this.reset();
      const { message, code, retriable } = describeKafkaError(err);
      this.lastError = message;
      throw new SinkError(`kafka ${this.conn.brokers.join(',')}: ${message}`, code, retriable, {
        cause: err,
      });
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
    }
    return { deadLetters };
  }

  async stop(): Promise<void> {
    await this.reset();
  }

  describe(): Record<string, unknown> {
    return {
      brokers: this.conn.brokers,
      topic: this.config.topic ?? this.conn.defaultTopic,
      compression: this.config.compression,
      sasl: this.conn.sasl?.mechanism ?? null,
      tls: this.conn.tls !== false,
      lastError: this.lastError,
      sink: this.name,
    };
  }
}

export const createKafkaSink: SinkFactory<KafkaSinkConfig> = (name, config, deps) =>
  new KafkaSink(name, config, deps.gatewayId);
