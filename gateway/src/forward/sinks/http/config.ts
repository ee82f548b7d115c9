/** Config of the HTTP sink: batches POSTed to a URL. */
import { z } from 'zod';
import { sinkCommon } from '../../../config/primitives.js';

export const httpSinkSchema = z.strictObject({
  type: z.literal('http'),
  ...sinkCommon,
  url: z.url({ protocol: /^https?$/ }).describe('endpoint that receives each batch'),
  method: z.enum(['POST', 'PUT']).default('POST'),
  format: z
    .enum(['json', 'ndjson', 'cbor'])
    .default('json')
    .describe('body: a JSON array, NDJSON lines or a CBOR array of record envelopes'),
  gzip: z.boolean().default(false).describe('gzip the body (Content-Encoding: gzip)'),
  headers: z
    .record(z.string(), z.string())
    .default({})
    .describe('extra request headers, e.g. an API key from ${ENV}'),
  bearerToken: z.string().optional().describe('sent as Authorization: Bearer <token>; use ${ENV_VAR}'),
});
export type HttpSinkConfig = z.output<typeof httpSinkSchema>;
