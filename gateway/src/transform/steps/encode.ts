/** encode: the output encoding of the route from here on (json or cbor). */
import { z } from 'zod';
import { KEEP, type Step } from '../step.js';

export const encodeSchema = z.strictObject({
  type: z.literal('encode'),
  format: z.enum(['json', 'cbor']),
});

export function createEncode(c: z.output<typeof encodeSchema>): Step {
  return (m) => {
    m.encode = c.format;
    return KEEP;
  };
}
