/**
 * The bridge's own configuration: one YAML file, validated with every problem
 * reported by path and unknown keys refused. `${ENV}` interpolation and issue
 * wording are the gateway's (config/load.ts), so both tools speak alike.
 */
import { z } from 'zod';
import {
  ConfigError,
  formatIssue,
  interpolate,
  parseYamlText,
  readYamlFile,
} from '../../gateway/src/config/load.js';
import { bytes, duration, port } from '../../gateway/src/config/primitives.js';

export { ConfigError };

const lineSettings = {
  baudRate: z.number().int().min(50).max(4_000_000).default(115_200).describe('line speed in baud'),
  dataBits: z
    .union([z.literal(5), z.literal(6), z.literal(7), z.literal(8)])
    .default(8)
    .describe('data bits per character (the protocol needs 8)'),
  parity: z.enum(['none', 'even', 'odd', 'mark', 'space']).default('none').describe('parity bit'),
  stopBits: z
    .union([z.literal(1), z.literal(1.5), z.literal(2)])
    .default(1)
    .describe('stop bits per character'),
};

const hexId = z
  .string()
  .regex(/^[0-9a-fA-F]{4}$/, 'expected 4 hex digits, e.g. "2341"')
  .transform((s) => s.toLowerCase());

/** One entry of `ports`: exactly one of path, glob, usb, plus line settings. */
export const portSchema = z
  .strictObject({
    path: z.string().min(1).optional().describe('a device path, e.g. /dev/ttyAMA0 or /dev/serial/by-id/...'),
    glob: z
      .string()
      .min(1)
      .optional()
      .describe(
        'a pattern with * and ? in its last part, e.g. /dev/ttyUSB*; rescanned every discovery.interval',
      ),
    usb: z
      .strictObject({
        vendorId: hexId.describe('USB vendor id, 4 hex digits'),
        productId: hexId.optional().describe('USB product id, 4 hex digits (any when absent)'),
      })
      .optional()
      .describe('ports of USB serial adapters with this vendor (and product) id'),
    ...lineSettings,
  })
  .refine((p) => [p.path, p.glob, p.usb].filter((x) => x !== undefined).length === 1, {
    message: 'give exactly one of path, glob, usb',
  });

export const bridgeConfigSchema = z.strictObject({
  bridgeId: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, dot, dash, underscore; 1-64 characters')
    .default('bridge')
    .describe('names this bridge in logs and in its status document'),
  log: z
    .strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info') })
    .prefault({}),
  gateway: z
    .strictObject({
      url: z
        .string()
        .regex(/^mqtts?:\/\/[^\s]+$/, 'expected mqtt://host:port or mqtts://host:port')
        .default('mqtt://127.0.0.1:1883')
        .describe("the gateway's MQTT listener"),
      username: z.string().optional().describe('MQTT user name (every device connection uses it)'),
      password: z
        .string()
        .optional()
        .describe('MQTT password; use an environment variable reference rather than writing it here'),
      topicPrefix: z
        .string()
        .regex(/^[^+#\s/]+(\/[^+#\s/]+)*$/, 'topic levels without wildcards or empty levels')
        .default('devices')
        .describe('DATA goes to <topicPrefix>/<deviceId>/<suffix>, commands come from .../commands/#'),
      keepalive: duration.default('30s').describe('MQTT keep-alive of each device connection'),
      connectTimeout: duration.default('10s').describe('a CONNECT without CONNACK after this is retried'),
      reconnectPeriod: duration.default('1s').describe('pause between reconnect attempts to the gateway'),
      payload: z
        .enum(['cbor', 'json'])
        .default('cbor')
        .describe('cbor: publish the DATA body as the device sent it; json: convert it to JSON text'),
    })
    .prefault({}),
  ports: z.array(portSchema).default([]).describe('the serial ports to serve, one device each'),
  discovery: z
    .strictObject({
      interval: duration.default('5s').describe('how often glob and usb entries are rescanned'),
    })
    .prefault({}),
  reopen: z
    .strictObject({
      initialDelay: duration.default('250ms').describe('first wait before reopening a lost port'),
      maxDelay: duration.default('10s').describe('cap of the doubling reopen delay'),
    })
    .prefault({}),
  buffer: z
    .strictObject({
      maxMessages: z
        .number()
        .int()
        .min(1)
        .default(1000)
        .describe('DATA frames held in memory awaiting PUBACK, all devices together; beyond: NACK busy'),
      maxBytes: bytes.default('1MB').describe('payload bytes held awaiting PUBACK; beyond: NACK busy'),
    })
    .prefault({}),
  commands: z
    .strictObject({
      payload: z
        .enum(['auto', 'cbor', 'json'])
        .default('auto')
        .describe('MQTT command payloads: json is converted to CBOR; auto: JSON if it parses, else CBOR'),
      maxQueued: z
        .number()
        .int()
        .min(1)
        .default(16)
        .describe('commands waiting per device; beyond, new ones are dropped (counted)'),
    })
    .prefault({}),
  status: z
    .strictObject({
      enabled: z.boolean().default(true),
      host: z.string().default('127.0.0.1').describe('address of the status endpoint (/status, /metrics)'),
      port: port.default(9180).describe('HTTP port of the status endpoint (0 = pick a free one)'),
    })
    .prefault({}),
});

export type BridgeConfig = z.output<typeof bridgeConfigSchema>;
export type PortConfig = z.output<typeof portSchema>;

export function parseBridgeConfig(
  raw: unknown,
  source: string,
  env: NodeJS.ProcessEnv = process.env,
): BridgeConfig {
  const problems: string[] = [];
  const interpolated = interpolate(raw ?? {}, env, problems);
  const result = bridgeConfigSchema.safeParse(interpolated, { reportInput: true });
  if (!result.success) problems.push(...result.error.issues.map(formatIssue));
  if (problems.length > 0 || !result.success) throw new ConfigError(source, problems);
  if (result.data.ports.length === 0) throw new ConfigError(source, ['ports: at least one port is needed']);
  return result.data;
}

export function parseBridgeConfigText(
  text: string,
  source: string,
  env: NodeJS.ProcessEnv = process.env,
): BridgeConfig {
  return parseBridgeConfig(parseYamlText(text, source), source, env);
}

export function loadBridgeConfig(file: string, env: NodeJS.ProcessEnv = process.env): BridgeConfig {
  return parseBridgeConfig(readYamlFile(file), file, env);
}
