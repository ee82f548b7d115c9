/** Config of the file sink (rotating NDJSON files). */
import { z } from 'zod';
import { bytes, sinkCommon } from '../../../config/primitives.js';

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

export type FileSinkConfig = z.output<typeof fileSinkSchema>;
