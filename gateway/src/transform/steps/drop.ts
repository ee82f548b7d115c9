/** drop: remove fields at dotted paths. */
import { z } from 'zod';
import { KEEP, pathDelete, type Step } from '../step.js';

export const dropSchema = z.strictObject({
  type: z.literal('drop'),
  fields: z.array(z.string().min(1)).min(1).describe('paths to remove'),
});

export function createDrop(c: z.output<typeof dropSchema>): Step {
  const paths = c.fields.map((f) => f.split('.'));
  return (m) => {
    for (const p of paths) pathDelete(m.value, p);
    return KEEP;
  };
}
