/** Config of the MQTT sink: a bridge to an upstream broker (Azure IoT Hub, AWS IoT Core, any broker). */
import { z } from 'zod';
import { sinkCommon } from '../../../config/primitives.js';

export const mqttSinkSchema = z.strictObject({
  type: z.literal('mqtt'),
  ...sinkCommon,
  url: z
    .string()
    .regex(/^(mqtts?|wss?):\/\/[^/\s]+/, 'expected mqtt://host:port, mqtts://, ws:// or wss://')
    .describe('upstream broker'),
  clientId: z.string().optional().describe('client id upstream; default <gatewayId>-<sink name>'),
  username: z.string().optional(),
  password: z.string().optional().describe('use ${ENV_VAR}'),
  ca: z.string().optional().describe('file with the CA certificate(s) to trust (mqtts/wss)'),
  cert: z
    .string()
    .optional()
    .describe('file with the client certificate (X.509 identity, e.g. AWS IoT Core)'),
  key: z.string().optional().describe('file with the client certificate key'),
  protocolVersion: z
    .union([z.literal(4), z.literal(5)])
    .default(4)
    .describe('4 = MQTT 3.1.1, 5 = MQTT 5'),
  topic: z
    .string()
    .min(1)
    .default('{topic}')
    .describe('topic template: {topic}, {deviceId}, {gatewayId}, {route}, {sink}'),
  qos: z
    .union([z.literal(1), z.literal(2)])
    .default(1)
    .describe('QoS upstream; a record is acknowledged by PUBACK (1) or PUBCOMP (2)'),
  inflight: z
    .number()
    .int()
    .min(1)
    .max(65_535)
    .default(100)
    .describe('most unacknowledged publishes in flight'),
  payload: z
    .enum(['envelope', 'raw'])
    .default('envelope')
    .describe(
      'envelope: the JSON record envelope (id, deviceId, topic, payload); raw: the payload bytes only',
    ),
  pack: z
    .enum(['none', 'json', 'cbor'])
    .default('none')
    .describe('none: one message per record; json/cbor: the whole batch as one array message'),
  packTopic: z
    .string()
    .optional()
    .describe('topic of packed batches (required with pack); same placeholders, from the first record'),
  keepalive: z.number().int().min(0).default(30).describe('seconds'),
});
export type MqttSinkConfig = z.output<typeof mqttSinkSchema>;
