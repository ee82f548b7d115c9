import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../gateway/src/config/load.js';
import {
  connectionFor,
  kafkaSinkSchema,
  parseConnectionString,
} from '../../../gateway/src/forward/sinks/kafka/config.js';
import { describeKafkaError } from '../../../gateway/src/forward/sinks/kafka/errors.js';

const eventHubs =
  'Endpoint=sb://contoso-iot.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=abc123=;EntityPath=telemetry';
const fabric =
  'Endpoint=sb://esehwestus2abcd.servicebus.windows.net/;SharedAccessKeyName=key_1234;SharedAccessKey=xyz=;EntityPath=es_5f2c';

function problems(raw: unknown): string[] {
  try {
    parseConfig(raw, 't', {});
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

describe('Kafka sink config', () => {
  it.each([
    ['an Event Hubs namespace', eventHubs, 'contoso-iot.servicebus.windows.net:9093', 'telemetry'],
    ['a Fabric Eventstream Kafka endpoint', fabric, 'esehwestus2abcd.servicebus.windows.net:9093', 'es_5f2c'],
  ])('expands the connection string of %s to SASL_SSL PLAIN on port 9093', (_what, cs, broker, topic) => {
    const c = kafkaSinkSchema.parse({ type: 'kafka', connectionString: cs });
    expect(connectionFor(c)).toEqual({
      brokers: [broker],
      sasl: { mechanism: 'PLAIN', username: '$ConnectionString', password: cs },
      tls: true,
      defaultTopic: topic,
    });
  });

  it('keeps the key that ends in "=" intact when parsing', () => {
    expect(parseConnectionString(eventHubs)).toEqual({
      host: 'contoso-iot.servicebus.windows.net',
      entityPath: 'telemetry',
    });
    expect(parseConnectionString('Endpoint=https://x/;SharedAccessKey=1')).toBeNull();
  });

  it('refuses what Event Hubs cannot take, a sink with no brokers, and zstd', () => {
    const p = problems({
      sinks: {
        a: { type: 'kafka', connectionString: eventHubs, compression: 'lz4' },
        b: { type: 'kafka' },
        c: { type: 'kafka', brokers: ['h:9092'], compression: 'zstd' },
        d: { type: 'kafka', connectionString: 'not a connection string' },
      },
      routes: { r: { from: '#', to: 'a' } },
    });
    expect(p).toContain('sinks.a.compression: Event Hubs and Fabric accept gzip or none only');
    expect(p).toContain('sinks.b.brokers: give brokers or connectionString');
    expect(p.some((x) => x.startsWith('sinks.c.compression: got "zstd"'))).toBe(true);
    expect(p.some((x) => x.startsWith('sinks.d.connectionString: expected Endpoint=sb://'))).toBe(true);
  });
});

describe('Kafka error descriptions', () => {
  it('finds the authentication failure inside the wrapped errors', () => {
    const err = {
      code: 'PLT_KFK_MULTIPLE',
      message: 'Cannot connect to any broker.',
      errors: [
        {
          code: 'PLT_KFK_NETWORK',
          message: 'Connection to 127.0.0.1:1 failed.',
          cause: {
            code: 'PLT_KFK_AUTHENTICATION',
            message: 'SASL authentication failed.',
            cause: {
              apiId: 'SASL_AUTHENTICATION_FAILED',
              serverErrorMessage: 'Authentication failed: Invalid username or password',
            },
          },
        },
      ],
    };
    expect(describeKafkaError(err)).toEqual({
      message: 'SASL authentication failed: Authentication failed: Invalid username or password',
      code: 'KAFKA_AUTH',
      retriable: true,
    });
  });
  it('marks a batch the broker calls too large as not retriable', () => {
    expect(describeKafkaError({ message: 'x', errors: [{ apiId: 'MESSAGE_TOO_LARGE' }] })).toMatchObject({
      code: 'KAFKA_TOO_LARGE',
      retriable: false,
    });
  });
});
