/**
 * enrich: add gateway id, receive time, device id, topic wildcards and static
 * per-device metadata (a JSON or YAML file keyed by device id, read at start).
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { KEEP, pathSet, type Step } from '../step.js';

export const enrichSchema = z.strictObject({
  type: z.literal('enrich'),
  gatewayId: z.string().optional().describe('field to write the gateway id to'),
  receivedAt: z.string().optional().describe('field to write the receive time (ms since the epoch) to'),
  deviceId: z.string().optional().describe('field to write the device id to'),
  params: z.string().optional().describe('field to write the topic wildcards ({deviceId: ...}) to'),
  metadata: z
    .strictObject({
      file: z.string().describe('JSON or YAML map: device id -> object'),
      field: z.string().default('meta').describe('field to write the device metadata to'),
    })
    .optional(),
});

export function createEnrich(c: z.output<typeof enrichSchema>): Step {
  const meta = c.metadata ? (parse(readFileSync(c.metadata.file, 'utf8')) as Record<string, unknown>) : null;
  const field = (f: string | undefined) => f?.split('.');
  const g = field(c.gatewayId);
  const r = field(c.receivedAt);
  const d = field(c.deviceId);
  const p = field(c.params);
  const mf = field(c.metadata?.field);
  return (m) => {
    if (m.value === null || typeof m.value !== 'object' || Array.isArray(m.value)) {
      return { keep: false, error: 'payload is not an object' };
    }
    if (g) pathSet(m.value, g, m.gatewayId);
    if (r) pathSet(m.value, r, m.receivedAt);
    if (d) pathSet(m.value, d, m.deviceId);
    if (p) pathSet(m.value, p, { ...m.params });
    if (meta && mf && meta[m.deviceId] !== undefined) pathSet(m.value, mf, structuredClone(meta[m.deviceId]));
    return KEEP;
  };
}
