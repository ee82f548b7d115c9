/** filter: keep the message only when the condition holds (counted as `filtered` otherwise). */
import { z } from 'zod';
import { compileCondition, conditionSchema } from '../condition.js';
import { FILTERED, KEEP, type Step } from '../step.js';

export const filterSchema = z.strictObject({
  type: z.literal('filter'),
  when: conditionSchema.describe('JSONata condition, e.g. temperature > -40 and status = "ok"'),
});

export function createFilter(c: z.output<typeof filterSchema>): Step {
  const cond = compileCondition(c.when);
  const outcome = (ok: boolean) => (ok ? KEEP : FILTERED);
  return (m) => {
    const r = cond(m);
    return typeof r === 'boolean' ? outcome(r) : r.then(outcome);
  };
}
