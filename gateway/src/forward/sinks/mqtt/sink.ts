/**
 * The MQTT sink: publishes to an upstream broker at QoS 1 (or 2) with a
 * window of in-flight messages; a batch is acknowledged when every publish
 * in it got its PUBACK. While disconnected it fails fast (the forwarder
 * retries) instead of letting the client queue offline: the queue is ours.
 */
import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { StoredRecord } from '../../../contracts/record.js';
import { toEnvelope } from '../../../contracts/record.js';
import { SinkError } from '../../../errors.js';
import { encodeBatch, fillTemplate } from '../../encode.js';
import type { SendContext, Sink, SinkFactory } from '../../sink.js';
import type { MqttSinkConfig } from './config.js';

export class MqttSink implements Sink {
  readonly type = 'mqtt';
  private client: MqttClient | null = null;
  private lastError: string | null = null;

  constructor(
    private readonly name: string,
    private readonly config: MqttSinkConfig,
    private readonly gatewayId: string,
  ) {}

  async start(): Promise<void> {
    if (this.client) return;
    const c = this.config;
    const opts: IClientOptions = {
      clientId: c.clientId ?? `${this.gatewayId}-${this.name}`,
      username: c.username,
      password: c.password,
      protocolVersion: c.protocolVersion,
      keepalive: c.keepalive,
      clean: true,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      queueQoSZero: false,
    };
    if (c.ca) opts.ca = readFileSync(c.ca);
    if (c.cert) opts.cert = readFileSync(c.cert);
    if (c.key) opts.key = readFileSync(c.key);
    const client = mqtt.connect(c.url, opts);
    client.on('error', (err) => {
      this.lastError = `${c.url}: ${err.message}`;
    });
    client.on('connect', () => {
      this.lastError = null;
    });
    client.on('offline', () => {
      this.lastError ??= `${c.url}: offline`;
    });
    this.client = client;
  }

  private messages(records: StoredRecord[], gatewayId: string): Array<{ topic: string; body: Buffer }> {
    const c = this.config;
    if (c.pack !== 'none') {
      return [
        {
          topic: fillTemplate(c.packTopic ?? c.topic, records[0]!, gatewayId),
          body: encodeBatch(c.pack, gatewayId, records),
        },
      ];
    }
    return records.map((r) => ({
      topic: fillTemplate(c.topic, r, gatewayId),
      body: c.payload === 'raw' ? r.payload : Buffer.from(JSON.stringify(toEnvelope(gatewayId, r))),
    }));
  }

  async send(records: StoredRecord[], ctx: SendContext) {
    const client = this.client;
    if (!client?.connected) {
      throw new SinkError(
        `not connected to the upstream broker (${this.lastError ?? 'connecting'})`,
        'NOT_CONNECTED',
        true,
      );
    }
    const msgs = this.messages(records, ctx.gatewayId);
    const closed = new Promise<never>((_, reject) => {
      const onClose = () =>
        reject(
          new SinkError(`connection to ${this.config.url} lost during a batch`, 'CONNECTION_LOST', true),
        );
      client.once('close', onClose);
      ctx.signal.addEventListener('abort', () => client.off('close', onClose), { once: true });
    });
    closed.catch(() => undefined);
    const inflight = new Set<Promise<unknown>>();
    // messages go out in queue order over one connection, so per-device order holds upstream
    for (const m of msgs) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      const p: Promise<unknown> = client
        .publishAsync(m.topic, m.body, { qos: this.config.qos })
        .finally(() => inflight.delete(p));
      inflight.add(p);
      if (inflight.size >= this.config.inflight) await Promise.race([Promise.race(inflight), closed]);
    }
    await Promise.race([Promise.all(inflight), closed]);
    return undefined;
  }

  async stop(): Promise<void> {
    const c = this.client;
    this.client = null;
    if (c) await c.endAsync(true).catch(() => undefined);
  }

  describe(): Record<string, unknown> {
    return { url: this.config.url, connected: this.client?.connected ?? false, lastError: this.lastError };
  }
}

export const createMqttSink: SinkFactory<MqttSinkConfig> = (name, config, deps) =>
  new MqttSink(name, config, deps.gatewayId);
