/** Config of a route: where messages come from, what happens to them, which sink they go to. */
import { z } from 'zod';
import { conditionSchema } from '../transform/condition.js';
import { stepSchema } from '../transform/steps/index.js';
import { validateFilter } from './topic-filter.js';

const filter = z
  .string()
  .min(1)
  .superRefine((f, ctx) => {
    const problem = validateFilter(f);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

export const routeSchema = z
  .strictObject({
    from: z
      .union([filter, z.array(filter).min(1)])
      .optional()
      .describe('MQTT topic filter(s); named wildcards such as devices/+deviceId/# bind fields'),
    unrouted: z
      .boolean()
      .default(false)
      .describe("catch-all (instead of from): takes the messages no other route's filters match"),
    decode: z
      .enum(['raw', 'json', 'cbor', 'auto'])
      .default('raw')
      .describe('how to read the payload; raw passes it through untouched (steps need a decoded payload)'),
    where: conditionSchema
      .optional()
      .describe('JSONata condition; only messages for which it is true take this route (e.g. t > 30)'),
    steps: z
      .array(stepSchema)
      .default([])
      .describe(
        'ordered steps: filter, map, set, rename, drop, enrich, deadband, downsample, aggregate, encode',
      ),
    encode: z
      .enum(['same', 'json', 'cbor'])
      .default('same')
      .describe('output encoding: same as the input, json or cbor (an encode step overrides it)'),
    to: z.string().min(1).describe('name of the sink whose queue receives the output'),
  })
  .superRefine((r, ctx) => {
    if ((r.from === undefined) === !r.unrouted) {
      ctx.addIssue({
        code: 'custom',
        path: ['from'],
        message: r.unrouted
          ? 'a catch-all route (unrouted: true) has no from'
          : 'give from (or unrouted: true)',
      });
    }
    if (r.decode === 'raw' && (r.steps.length > 0 || r.where)) {
      ctx.addIssue({
        code: 'custom',
        path: ['decode'],
        message: 'steps and where need a decoded payload: set decode to json, cbor or auto',
      });
    }
  });

export type RouteConfig = z.output<typeof routeSchema>;
