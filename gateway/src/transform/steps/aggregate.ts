/**
 * aggregate: tumbling windows per device (aligned to the clock: a 1m window
 * runs from :00 to :00), giving per field count, min, max, mean and last.
 * Messages are absorbed (counted as filtered); a window is sent when it
 * closes: when the route's timer finds its end passed, or when the device's
 * next message falls after it. A clock that went backwards closes the open
 * window early rather than leaving it open until the clock catches up.
 * Open windows are saved with the route state, so they survive a restart.
 */
import { z } from 'zod';
import { duration } from '../../config/primitives.js';
import { ms } from '../../config/units.js';
import { pathGet } from '../condition.js';
import { savedMessage } from '../held-message.js';
import { FILTERED, type StepContext, type StepInstance, type StepMessage, systemContext } from '../step.js';

const OPS = ['count', 'min', 'max', 'mean', 'last'] as const;
type AggOp = (typeof OPS)[number];

export const aggregateSchema = z.strictObject({
  type: z.literal('aggregate'),
  window: duration.refine((d) => ms(d) > 0, 'the window must be longer than 0').describe('window length'),
  fields: z.array(z.string().min(1)).min(1).describe('numeric fields to aggregate (dotted paths)'),
  ops: z
    .array(z.enum(OPS))
    .min(1)
    .default([...OPS])
    .describe('per field: count (of numeric values), min, max, mean, last'),
});

interface Acc {
  n: number;
  min: number;
  max: number;
  sum: number;
  last: number;
}
interface Window {
  start: number;
  count: number;
  /** the newest message's envelope: the window goes out under it */
  topic: string;
  deviceId: string;
  params: Record<string, string>;
  gatewayId: string;
  encode: StepMessage['encode'];
  acc: Array<Acc | null>;
}

const savedWindow = z.object({
  start: z.number(),
  count: z.number(),
  topic: z.string(),
  deviceId: z.string(),
  params: z.record(z.string(), z.string()),
  gatewayId: z.string(),
  encode: z.enum(['json', 'cbor', 'raw']),
  acc: z.array(
    z
      .object({ n: z.number(), min: z.number(), max: z.number(), sum: z.number(), last: z.number() })
      .nullable(),
  ),
});
const savedState = z.object({ open: z.array(savedWindow), ready: z.array(savedMessage) });

export function createAggregate(
  c: z.output<typeof aggregateSchema>,
  ctx: StepContext = systemContext,
): StepInstance {
  const size = ms(c.window);
  const paths = c.fields.map((f) => f.split('.'));
  const ops = new Set<AggOp>(c.ops);
  const open = new Map<string, Window>();
  const ready: StepMessage[] = [];

  const result = (w: Window, now: number): StepMessage => {
    const value: Record<string, unknown> = {
      windowStart: w.start,
      windowEnd: w.start + size,
      count: w.count,
    };
    c.fields.forEach((f, i) => {
      const a = w.acc[i];
      const out: Record<string, number> = {};
      if (ops.has('count')) out.count = a?.n ?? 0;
      if (a) {
        if (ops.has('min')) out.min = a.min;
        if (ops.has('max')) out.max = a.max;
        if (ops.has('mean')) out.mean = a.sum / a.n;
        if (ops.has('last')) out.last = a.last;
      }
      value[f] = out;
    });
    const { topic, deviceId, params, gatewayId, encode } = w;
    return { value, topic, deviceId, params, gatewayId, encode, receivedAt: now };
  };
  const closes = (w: Window, t: number) => t >= w.start + size || t < w.start;

  return {
    run(m) {
      const t = ctx.now();
      let w = open.get(m.deviceId);
      if (w && closes(w, t)) {
        ready.push(result(w, t));
        w = undefined;
      }
      if (!w) {
        w = {
          start: Math.floor(t / size) * size,
          count: 0,
          topic: m.topic,
          deviceId: m.deviceId,
          params: m.params,
          gatewayId: m.gatewayId,
          encode: m.encode,
          acc: paths.map(() => null),
        };
        open.set(m.deviceId, w);
      }
      w.count++;
      w.topic = m.topic;
      w.params = m.params;
      w.encode = m.encode;
      paths.forEach((p, i) => {
        const v = pathGet(m.value, p);
        // missing fields, wrong types, NaN and infinities are left out (the window's count still counts the message)
        if (typeof v !== 'number' || !Number.isFinite(v)) return;
        const a = w.acc[i];
        if (!a) w.acc[i] = { n: 1, min: v, max: v, sum: v, last: v };
        else {
          a.n++;
          a.min = Math.min(a.min, v);
          a.max = Math.max(a.max, v);
          a.sum += v;
          a.last = v;
        }
      });
      return FILTERED;
    },
    held: {
      due(now) {
        for (const [d, w] of open) {
          if (!closes(w, now)) continue;
          ready.push(result(w, now));
          open.delete(d);
        }
        return ready.splice(0);
      },
      save: () => ({ open: [...open.values()], ready: [...ready] }),
      load(state) {
        const s = savedState.parse(state);
        for (const w of s.open) open.set(w.deviceId, w);
        ready.push(...s.ready);
      },
    },
  };
}
