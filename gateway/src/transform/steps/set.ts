/** set: write fixed values at dotted paths (creating objects on the way). */
import { z } from 'zod';
import { KEEP, pathSet, type Step } from '../step.js';

export const setSchema = z.strictObject({
  type: z.literal('set'),
  fields: z
    .record(z.string().min(1), z.unknown())
    .describe('path -> value, e.g. { site: north, meta.unit: C }'),
});

export function createSet(c: z.output<typeof setSchema>): Step {
  const entries = Object.entries(c.fields).map(([k, v]) => [k.split('.'), v] as const);
  return (m) => {
    for (const [path, v] of entries) {
      if (!pathSet(m.value, path, structuredClone(v)))
        return { keep: false, error: 'payload is not an object' };
    }
    return KEEP;
  };
}
