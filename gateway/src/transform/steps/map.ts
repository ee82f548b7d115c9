/**
 * map: replace the payload with the result of a JSONata expression, e.g.
 * `{ "temperature": t / 10, "at": $receivedAt }`. An expression that fails on
 * a payload, or yields nothing, sends that message to the dead letters.
 */
import { z } from 'zod';
import { compileExpression } from '../expression.js';
import { KEEP, type Step } from '../step.js';

export const mapSchema = z.strictObject({
  type: z.literal('map'),
  expr: z
    .string()
    .min(1)
    .superRefine((text, ctx) => {
      try {
        compileExpression(text);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
      }
    })
    .describe(
      'JSONata expression giving the new payload; sees $topic, $deviceId, $params, $receivedAt, $gatewayId',
    ),
});

export function createMap(c: z.output<typeof mapSchema>): Step {
  const expr = compileExpression(c.expr);
  return async (m) => {
    let v: unknown;
    try {
      v = await expr.evaluate(m);
    } catch (err) {
      return { keep: false, error: `map: ${(err as Error).message}` };
    }
    if (v === undefined) return { keep: false, error: 'map: the expression gave no value' };
    m.value = v;
    return KEEP;
  };
}
