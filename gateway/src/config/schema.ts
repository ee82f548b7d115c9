/**
 * The one configuration schema. Every field has its default and its meaning
 * beside it; `tidegate check-config` and the README's configuration reference
 * are produced from this file (see config/reference.ts).
 */
import { z } from 'zod';

const duration = z
  .union([
    z.number().int().nonnegative(),
    z.string().regex(/^\d+(ms|s|m|h|d)$/, 'expected a duration like 500ms, 30s, 5m, 2h, 7d'),
  ])
  .describe('milliseconds, or a string with a unit: 500ms, 30s, 5m, 2h, 7d');

const bytes = z
  .union([
    z.number().int().nonnegative(),
    z.string().regex(/^\d+(B|KB|MB|GB|KiB|MiB|GiB)$/, 'expected a size like 512KB, 100MB, 2GiB'),
  ])
  .describe('bytes, or a string with a unit: 512KB, 100MB, 2GiB');

const port = z.number().int().min(0).max(65535);

export const retrySchema = z.strictObject({
  initialDelay: duration.default('500ms').describe('first retry delay after an upstream failure'),
  maxDelay: duration.default('30s').describe('cap of the exponential backoff'),
  multiplier: z.number().min(1).default(2).describe('backoff growth factor per failed attempt'),
  jitter: z.number().min(0).max(1).default(0.2).describe('random spread of each delay, as a fraction'),
});

export const batchSchema = z.strictObject({
  maxRecords: z
    .number()
    .int()
    .min(1)
    .max(100_000)
    .default(500)
    .describe('most records in one upstream batch'),
  maxBytes: bytes.default('1MB').describe('most payload bytes in one upstream batch'),
  linger: duration.default('50ms').describe('how long to wait for a batch to fill when the backlog is small'),
});

export const queueLimitsSchema = z.strictObject({
  maxBytes: bytes.default('1GiB').describe("disk budget of this sink's queue (payload + metadata bytes)"),
  maxAge: duration.default('7d').describe('messages older than this are expired (counted), 0 = never'),
  whenFull: z
    .enum(['drop-oldest', 'reject-new'])
    .default('drop-oldest')
    .describe(
      'drop-oldest: make room by dropping the oldest (counted); reject-new: refuse the PUBLISH (no PUBACK, the device retries)',
    ),
});

const sinkCommon = {
  queue: queueLimitsSchema.prefault({}),
  batch: batchSchema.prefault({}),
  retry: retrySchema.prefault({}),
  sendTimeout: duration.default('30s').describe('an upstream send that takes longer fails and is retried'),
};

export const fileSinkSchema = z.strictObject({
  type: z.literal('file'),
  ...sinkCommon,
  path: z
    .string()
    .min(1)
    .default('out')
    .describe('folder for the NDJSON files; a relative path is inside dataDir'),
  rotateBytes: bytes.default('64MB').describe('start a new file when the current one reaches this size'),
  maxFiles: z.number().int().min(1).default(20).describe('keep at most this many rotated files'),
  fsync: z.boolean().default(true).describe('fsync each batch before it is acknowledged'),
});

export const sinkSchemas = [fileSinkSchema] as const;
export const sinkSchema = z.discriminatedUnion('type', sinkSchemas);

export const routeSchema = z.strictObject({
  from: z
    .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
    .describe('MQTT topic filter(s); named wildcards such as devices/+deviceId/# bind fields'),
  to: z.string().min(1).describe('name of the sink whose queue receives the output'),
});

export const listenerSchema = z.strictObject({
  host: z.string().default('0.0.0.0').describe('address to listen on'),
  port: port.default(1883).describe('TCP port for MQTT'),
});

export const configSchema = z.strictObject({
  gatewayId: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, dot, dash, underscore; 1-64 characters')
    .default('tidegate')
    .describe('names this gateway in every record id (<gatewayId>/<seq>)'),
  dataDir: z.string().default('./data').describe('folder of the SQLite store'),
  log: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
    })
    .prefault({}),
  mqtt: z
    .strictObject({
      host: z.string().default('0.0.0.0').describe('address the MQTT TCP listener binds'),
      port: port.default(1883).describe('MQTT TCP port (0 = pick a free one)'),
      maxPacketSize: bytes
        .default('256KB')
        .describe('larger PUBLISH packets are refused and the client disconnected'),
      maxClients: z.number().int().min(1).default(10_000).describe('connections beyond this are refused'),
      heartbeatInterval: duration.default('60s').describe('aedes $SYS heartbeat interval'),
    })
    .prefault({}),
  queue: z
    .strictObject({
      durability: z
        .enum(['power-loss', 'process-crash'])
        .default('power-loss')
        .describe(
          'power-loss: fsync every commit (synchronous=FULL); process-crash: survive kill -9 only (NORMAL)',
        ),
      maxCommitDelay: duration
        .default('0ms')
        .describe('extra wait to gather a larger group commit (0 = commit as soon as the last one ends)'),
      retentionInterval: duration.default('10s').describe('how often expiry and space reclaim run'),
    })
    .prefault({}),
  status: z
    .strictObject({
      enabled: z.boolean().default(true),
      host: z.string().default('0.0.0.0').describe('address of the status page and APIs'),
      port: port.default(8080).describe('HTTP port of the status page (0 = pick a free one)'),
      auth: z
        .enum(['token', 'none'])
        .default('token')
        .describe(
          'token: the page and APIs need the token (only /healthz and /readyz are open); none: open to anyone who can reach the port',
        ),
      token: z
        .string()
        .min(16, 'use at least 16 characters')
        .optional()
        .describe(
          'the access token, e.g. ${TIDEGATE_STATUS_TOKEN}; when unset, one is generated and stored in <dataDir>/status-token',
        ),
    })
    .prefault({}),
  sinks: z
    .record(
      z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'sink names use letters, digits, dash, underscore'),
      sinkSchema,
    )
    .prefault({ local: { type: 'file' } })
    .describe('named upstream sinks, each with its own queue'),
  routes: z
    .record(
      z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'route names use letters, digits, dash, underscore'),
      routeSchema,
    )
    .prefault({ all: { from: '#', to: 'local' } })
    .describe('named routes from topic filters to sinks'),
});

export type ConfigInput = z.input<typeof configSchema>;
export type Config = z.output<typeof configSchema>;
export type SinkConfig = z.output<typeof sinkSchema>;
export type RouteConfig = z.output<typeof routeSchema>;
export type QueueLimits = z.output<typeof queueLimitsSchema>;
export type BatchConfig = z.output<typeof batchSchema>;
export type RetryConfig = z.output<typeof retrySchema>;
