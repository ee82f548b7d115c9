/** rename: move fields from one dotted path to another (missing fields are skipped). */
import { z } from 'zod';
import { KEEP, pathDelete, pathSet, type Step } from '../step.js';

export const renameSchema = z.strictObject({
  type: z.literal('rename'),
  fields: z.record(z.string().min(1), z.string().min(1)).describe('from -> to, e.g. { t: temperature }'),
});

export function createRename(c: z.output<typeof renameSchema>): Step {
  const entries = Object.entries(c.fields).map(([a, b]) => [a.split('.'), b.split('.')] as const);
  return (m) => {
    if (m.value === null || typeof m.value !== 'object' || Array.isArray(m.value)) {
      return { keep: false, error: 'payload is not an object' };
    }
    for (const [from, to] of entries) {
      const v = pathDelete(m.value, from);
      if (v !== undefined) pathSet(m.value, to, v);
    }
    return KEEP;
  };
}
