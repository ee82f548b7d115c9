/** The config schema of every sink type; `type:` selects one. Add a sink here and in index.ts. */
import { z } from 'zod';
import { fileSinkSchema } from './file/config.js';
import { httpSinkSchema } from './http/config.js';
import { kafkaSinkSchema } from './kafka/config.js';
import { mqttSinkSchema } from './mqtt/config.js';

export const sinkSchema = z.discriminatedUnion('type', [
  fileSinkSchema,
  kafkaSinkSchema,
  mqttSinkSchema,
  httpSinkSchema,
]);
export type SinkConfig = z.output<typeof sinkSchema>;
