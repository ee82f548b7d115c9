/**
 * Config of the Kafka sink. Azure Event Hubs and Microsoft Fabric Eventstream
 * are reached through their Kafka endpoints: give `connectionString` and the
 * rest (bootstrap on port 9093, SASL_SSL PLAIN, user `$ConnectionString`) follows.
 */
import { z } from 'zod';
import { bytes, sinkCommon } from '../../../config/primitives.js';

export const kafkaSinkSchema = z
  .strictObject({
    type: z.literal('kafka'),
    ...sinkCommon,
    brokers: z
      .array(z.string().regex(/^[^\s:]+:\d+$/, 'expected host:port'))
      .optional()
      .describe('bootstrap brokers'),
    connectionString: z
      .string()
      .optional()
      .describe(
        'Azure Event Hubs namespace or Fabric Eventstream Kafka endpoint connection string (Endpoint=sb://...;SharedAccessKey...); use ${ENV_VAR}',
      ),
    topic: z
      .string()
      .min(1)
      .optional()
      .describe(
        'topic, fixed or a template: {deviceId}, {route}, {gatewayId}, {topic} (MQTT topic with / as .), {sink}; default: the EntityPath of the connection string, else "tidegate"',
      ),
    clientId: z.string().optional().describe('Kafka client id; default tidegate-<gatewayId>'),
    compression: z
      .enum(['none', 'gzip', 'snappy', 'lz4'])
      .default('gzip')
      .describe('batch compression (Event Hubs accepts gzip only; zstd needs Node 22 in this client)'),
    idempotent: z.boolean().default(true).describe('idempotent producer (acks=all always)'),
    sasl: z
      .strictObject({
        mechanism: z.enum(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']),
        username: z.string(),
        password: z.string().describe('use ${ENV_VAR}'),
      })
      .optional(),
    tls: z
      .union([
        z.boolean(),
        z.strictObject({
          ca: z.string().optional().describe('CA file'),
          cert: z.string().optional().describe('client certificate file'),
          key: z.string().optional().describe('client key file'),
          rejectUnauthorized: z.boolean().default(true),
        }),
      ])
      .optional()
      .describe('true, or files for a private CA / client certificate; on by default with connectionString'),
    maxMessageBytes: bytes
      .default(1_000_000)
      .describe("a record larger than this is dead-lettered (keep it under the broker's message.max.bytes)"),
    autocreateTopics: z
      .boolean()
      .default(false)
      .describe('let the client create missing topics (if the broker allows)'),
  })
  .superRefine((c, ctx) => {
    if (!c.brokers && !c.connectionString) {
      ctx.addIssue({ code: 'custom', path: ['brokers'], message: 'give brokers or connectionString' });
    }
    if (c.connectionString && !parseConnectionString(c.connectionString)) {
      ctx.addIssue({
        code: 'custom',
        path: ['connectionString'],
        message:
          'expected Endpoint=sb://<namespace>.servicebus.windows.net/;SharedAccessKeyName=...;SharedAccessKey=...',
      });
    }
    if (c.connectionString && c.compression !== 'none' && c.compression !== 'gzip') {
      ctx.addIssue({
        code: 'custom',
        path: ['compression'],
        message: 'Event Hubs and Fabric accept gzip or none only',
      });
    }
  });
export type KafkaSinkConfig = z.output<typeof kafkaSinkSchema>;

export interface AzureEndpoint {
  host: string;
  entityPath: string | undefined;
}

/** Endpoint=sb://NS.servicebus.windows.net/;SharedAccessKeyName=K;SharedAccessKey=S[;EntityPath=E] */
export function parseConnectionString(cs: string): AzureEndpoint | null {
  const parts = new Map<string, string>();
  for (const p of cs.split(';')) {
    const i = p.indexOf('=');
    if (i > 0) parts.set(p.slice(0, i).trim().toLowerCase(), p.slice(i + 1).trim());
  }
  const m = /^sb:\/\/([^/]+)\/?$/.exec(parts.get('endpoint') ?? '');
  if (!m || !parts.has('sharedaccesskeyname') || !parts.has('sharedaccesskey')) return null;
  return { host: m[1]!, entityPath: parts.get('entitypath') };
}

export interface KafkaConnection {
  brokers: string[];
  sasl?: { mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512'; username: string; password: string };
  tls: boolean | { ca?: string; cert?: string; key?: string; rejectUnauthorized: boolean };
  defaultTopic: string;
}

/** The Azure preset: what a connection string expands to. */
export function connectionFor(c: KafkaSinkConfig): KafkaConnection {
  if (c.connectionString) {
    const ep = parseConnectionString(c.connectionString)!;
    return {
      brokers: c.brokers ?? [`${ep.host}:9093`],
      sasl: { mechanism: 'PLAIN', username: '$ConnectionString', password: c.connectionString },
      tls: c.tls ?? true,
      defaultTopic: ep.entityPath ?? 'tidegate',
    };
  }
  return { brokers: c.brokers ?? [], sasl: c.sasl, tls: c.tls ?? false, defaultTopic: 'tidegate' };
}
