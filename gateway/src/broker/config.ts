/** Config of the MQTT broker: listeners, identity, ACL, limits, session persistence. */
import { z } from 'zod';
import { bytes, duration, port } from '../config/primitives.js';
import { ms, bytes as toBytes } from '../config/units.js';

const tlsSchema = z.strictObject({
  host: z.string().optional().describe('address the TLS listener binds (default: mqtt.host)'),
  port: port.default(8883).describe('MQTT over TLS port (0 = pick a free one)'),
  cert: z.string().describe('PEM server certificate (chain) file; reloaded on SIGHUP'),
  key: z.string().describe('PEM private key file; reloaded on SIGHUP'),
  ca: z
    .string()
    .optional()
    .describe('PEM CA bundle that signs device certificates (needed for clientCertificates)'),
  crl: z
    .string()
    .optional()
    .describe('PEM certificate revocation list; revoked device certificates are refused'),
  clientCertificates: z
    .enum(['off', 'optional', 'required'])
    .default('off')
    .describe(
      'off: no device certificates; optional: a valid one identifies the device (its CN is the device id), else user/password; required: connections without a valid certificate are refused. Turning it on turns anonymous access off',
    ),
});

const websocketSchema = z.strictObject({
  host: z.string().optional().describe('address the WebSocket listener binds (default: mqtt.host)'),
  port: port.default(8083).describe('MQTT over WebSocket port (0 = pick a free one)'),
  path: z.string().default('/mqtt').describe('HTTP path of the WebSocket endpoint'),
  tls: z
    .boolean()
    .default(false)
    .describe('serve wss:// with the certificate, key and client-certificate settings of mqtt.tls'),
});

export const mqttSchema = z.strictObject({
  host: z.string().default('0.0.0.0').describe('address the MQTT TCP listener binds'),
  port: port.default(1883).describe('MQTT TCP port (0 = pick a free one)'),
  tcp: z.boolean().default(true).describe('false: no plain TCP listener (TLS and/or WebSocket only)'),
  tls: tlsSchema.optional().describe('MQTT over TLS (node:tls); absent = no TLS listener'),
  websocket: websocketSchema.optional().describe('MQTT over WebSocket; absent = no WebSocket listener'),
  maxPacketSize: bytes
    .default('256KB')
    .describe('larger PUBLISH packets are refused and the client disconnected'),
  maxClients: z
    .number()
    .int()
    .min(1)
    .default(10_000)
    .describe('connections beyond this (all listeners together) are refused and counted'),
  heartbeatInterval: duration.default('60s').describe('aedes $SYS heartbeat interval'),
  auth: z
    .strictObject({
      passwordFile: z
        .string()
        .nullable()
        .default(null)
        .describe(
          'credentials file (scrypt hashes, managed with `tidegate passwd`); reloaded on SIGHUP. ' +
            'DEFAULT: null and no client certificates, which means ANONYMOUS ACCESS: any client may connect, ' +
            'publish and subscribe. Configuring any identity turns anonymous access off',
        ),
      clientIdMustMatchUser: z
        .boolean()
        .default(true)
        .describe(
          'an identified client must use its user name (or certificate CN) as client id, so the device id in every record is authenticated (CONNACK 2 otherwise)',
        ),
    })
    .prefault({}),
  acl: z
    .strictObject({
      file: z
        .string()
        .nullable()
        .default(null)
        .describe('ACL file in Mosquitto syntax (topic/pattern/user/client lines); reloaded on SIGHUP'),
      rules: z
        .array(z.string())
        .default([])
        .describe('ACL lines in the same syntax, added after the file, e.g. "pattern write devices/%c/#"'),
    })
    .prefault({})
    .describe(
      'with no file and no rules: anonymous clients may use every topic; identified devices may publish under devices/<id>/# and subscribe to devices/<id>/commands/#',
    ),
  limits: z
    .strictObject({
      messageRate: z
        .number()
        .min(0)
        .default(0)
        .describe(
          'PUBLISH packets per second per client (token bucket); over it the client socket is paused, nothing is dropped. 0 = no limit',
        ),
      messageBurst: z.number().int().min(1).default(100).describe('token bucket size for messageRate'),
      minKeepAlive: duration
        .default('0s')
        .describe('CONNECTs with a shorter keep-alive get CONNACK 2 (0 = any)'),
      maxKeepAlive: duration
        .default('0s')
        .describe('CONNECTs with a longer keep-alive, or 0 (none), get CONNACK 2; 0 here = no bound'),
      connectTimeout: duration
        .default('10s')
        .describe('a connection that sends no CONNECT in time is closed'),
      maxTopicLength: z
        .number()
        .int()
        .min(1)
        .max(65535)
        .default(1024)
        .describe('bytes of a topic name or filter'),
      maxTopicLevels: z
        .number()
        .int()
        .min(1)
        .max(100)
        .default(32)
        .describe('levels of a topic name or filter'),
      maxSubscriptionsPerClient: z
        .number()
        .int()
        .min(1)
        .default(100)
        .describe('SUBSCRIBE beyond this many filters gets failure (0x80) for the extra ones'),
      maxInflight: z
        .number()
        .int()
        .min(1)
        .default(100)
        .describe('inbound QoS 2 messages awaiting PUBREL per client; over it the client is disconnected'),
    })
    .prefault({}),
  sessions: z
    .strictObject({
      maxQueuedPerClient: z
        .number()
        .int()
        .min(1)
        .default(1000)
        .describe(
          'QoS 1/2 messages kept for one offline persistent session; the oldest are dropped beyond it (counted)',
        ),
    })
    .prefault({})
    .describe(
      'retained messages and persistent sessions live in tidegate.db (mqtt_* tables) and survive restarts',
    ),
});
export type MqttConfig = z.output<typeof mqttSchema>;

/** The broker's options from its config section (sizes and durations resolved). */
export function brokerOptions(mqtt: MqttConfig, dataFile: string) {
  const l = mqtt.limits;
  return {
    mqtt,
    dataFile,
    maxPacketSize: toBytes(mqtt.maxPacketSize),
    heartbeatIntervalMs: ms(mqtt.heartbeatInterval),
    connectTimeoutMs: ms(l.connectTimeout),
    limits: {
      messageRate: l.messageRate,
      messageBurst: l.messageBurst,
      minKeepAliveS: ms(l.minKeepAlive) / 1000,
      maxKeepAliveS: ms(l.maxKeepAlive) / 1000,
      maxTopicLength: l.maxTopicLength,
      maxTopicLevels: l.maxTopicLevels,
      maxSubscriptionsPerClient: l.maxSubscriptionsPerClient,
    },
  };
}
