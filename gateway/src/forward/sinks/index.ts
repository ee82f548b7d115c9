/** The registry: `type:` in the config -> factory. One folder per sink; no discovery magic. */
import type { SinkConfig } from '../../config/schema.js';
import type { Sink, SinkDeps } from '../sink.js';
import { createFileSink } from './file/sink.js';
import { createHttpSink } from './http/sink.js';
import { createKafkaSink } from './kafka/sink.js';
import { createMqttSink } from './mqtt/sink.js';

type Factories = {
  [T in SinkConfig['type']]: (name: string, config: Extract<SinkConfig, { type: T }>, deps: SinkDeps) => Sink;
};

const factories: Factories = {
  file: createFileSink,
  kafka: createKafkaSink,
  mqtt: createMqttSink,
  http: createHttpSink,
};

export function createSink(name: string, config: SinkConfig, deps: SinkDeps): Sink {
  const factory = factories[config.type] as (name: string, config: SinkConfig, deps: SinkDeps) => Sink;
  return factory(name, config, deps);
}
