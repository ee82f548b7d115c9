/** The fast path of conditions must answer exactly as JSONata does: same true/false, and an error where JSONata errs. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileCondition, type Fields } from '../../../gateway/src/transform/condition.js';
import { compileExpression } from '../../../gateway/src/transform/expression.js';

type Answer = boolean | 'error';

async function answer(f: () => boolean | Promise<boolean> | Promise<unknown>): Promise<Answer> {
  try {
    return (await f()) === true;
  } catch {
    return 'error';
  }
}

const leaf = fc.oneof(
  fc.integer({ min: -5, max: 5 }),
  fc.constantFrom(0.5, -1.5, Number.NaN, Number.POSITIVE_INFINITY, 1e21),
  fc.constantFrom('a', 'b', 'x and y', '', '5'),
  fc.boolean(),
  fc.constant(null),
);
const value = fc.oneof(
  leaf,
  fc.array(leaf, { maxLength: 2 }),
  fc.dictionary(fc.constantFrom('b', 'c'), leaf),
);
const payload = fc.oneof(
  fc.record({ t: value, a: value, n: value }, { requiredKeys: [] }),
  fc.array(fc.record({ t: leaf }), { maxLength: 2 }),
  leaf,
);
const literal = fc.oneof(
  fc.integer({ min: -5, max: 5 }).map(String),
  fc.constantFrom('0.5', '-1.5', '1e2'),
  fc.constantFrom('"a"', '"b"', '"x and y"', '""', '"5"'),
);
const eqLiteral = fc.oneof(literal, fc.constantFrom('true', 'false', 'null'));
const path = fc.constantFrom('t', 'a.b', 'a.c', 'n', '$deviceId', '$params.deviceId', '$topic');
const clause = fc.oneof(
  fc.tuple(path, fc.constantFrom('=', '!='), eqLiteral),
  fc.tuple(path, fc.constantFrom('>', '>=', '<', '<='), literal),
);
const condition = fc
  .array(clause, { minLength: 1, maxLength: 3 })
  .map((cs) => cs.map((c) => c.join(' ')).join(' and '));

describe('condition fast path vs JSONata', () => {
  it('gives the same answer on generated conditions and payloads', async () => {
    await fc.assert(
      fc.asyncProperty(condition, payload, fc.constantFrom('d1', 'a'), async (text, v, dev) => {
        const f: Fields = { value: v, topic: 'dev/d1', deviceId: dev, params: { deviceId: dev } };
        const cond = compileCondition(text);
        expect(cond.fast).toBe(true);
        const slow = compileExpression(text);
        expect(await answer(() => cond(f))).toBe(await answer(() => slow.evaluate(f)));
      }),
      { numRuns: 3000 },
    );
  });
});
