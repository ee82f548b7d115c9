/**
 * The registry: `type:` in the config -> factory. One folder per sink; no discovery magic.
 * Each sink's module is loaded only when a sink of that type is configured: the Kafka
 * client alone adds ~50 MB of RSS, which a Pi that forwards over MQTT should not pay.
 */
import type { SinkConfig } from '../../config/schema.js';
import type { Sink, SinkDeps } from '../sink.js';

type Factory<T extends SinkConfig['type']> = (
  name: string,
  config: Extract<SinkConfig, { type: T }>,
  deps: SinkDeps,
) => Sink;

const loaders: { [T in SinkConfig['type']]: () => Promise<Factory<T>> } = {
  file: async () => (await import('./file/sink.js')).createFileSink,
  kafka: async () => (await import('./kafka/sink.js')).createKafkaSink,
  mqtt: async () => (await import('./mqtt/sink.js')).createMqttSink,
  http: async () => (await import('./http/sink.js')).createHttpSink,
};

export async function createSink(name: string, config: SinkConfig, deps: SinkDeps): Promise<Sink> {
  const load = loaders[config.type] as () => Promise<Factory<SinkConfig['type']>>;
  const factory = (await load()) as (name: string, config: SinkConfig, deps: SinkDeps) => Sink;
  return factory(name, config, deps);
}
