/** Config of the MQTT broker: listeners, limits (and later identity and ACL). */
import { z } from 'zod';
import { bytes, duration, port } from '../config/primitives.js';

export const mqttSchema = z.strictObject({
  host: z.string().default('0.0.0.0').describe('address the MQTT TCP listener binds'),
  port: port.default(1883).describe('MQTT TCP port (0 = pick a free one)'),
  maxPacketSize: bytes
    .default('256KB')
    .describe('larger PUBLISH packets are refused and the client disconnected'),
  maxClients: z.number().int().min(1).default(10_000).describe('connections beyond this are refused'),
  heartbeatInterval: duration.default('60s').describe('aedes $SYS heartbeat interval'),
});
export type MqttConfig = z.output<typeof mqttSchema>;
