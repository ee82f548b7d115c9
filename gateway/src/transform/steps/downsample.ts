/**
 * downsample: at most one message per device per interval. The interval
 * starts with a device's first message. `keep: first` forwards that one and
 * filters the rest; `keep: last` holds the newest one and sends it when the
 * interval ends (the route's timer asks), so it is delayed by up to one
 * interval; held messages are saved across restarts with the route state.
 */
import { z } from 'zod';
import { duration } from '../../config/primitives.js';
import { ms } from '../../config/units.js';
import { savedMessage, toSaved } from '../held-message.js';
import {
  FILTERED,
  KEEP,
  type StepContext,
  type StepInstance,
  type StepMessage,
  systemContext,
} from '../step.js';

export const downsampleSchema = z.strictObject({
  type: z.literal('downsample'),
  interval: duration.describe('at most one message per device per interval'),
  keep: z.enum(['first', 'last']).default('first').describe('which message of each interval goes on'),
});

const savedLast = z.object({
  open: z.array(z.object({ start: z.number(), held: savedMessage })),
  ready: z.array(savedMessage),
});

export function createDownsample(
  c: z.output<typeof downsampleSchema>,
  ctx: StepContext = systemContext,
): StepInstance {
  const interval = ms(c.interval);
  // a clock that went backwards ends the interval: better one extra message than a stuck device
  const ended = (start: number, t: number) => t - start >= interval || t < start;
  if (c.keep === 'first') {
    const last = new Map<string, number>();
    return {
      run(m) {
        const t = ctx.now();
        const prev = last.get(m.deviceId);
        if (prev !== undefined && !ended(prev, t)) return FILTERED;
        last.set(m.deviceId, t);
        return KEEP;
      },
    };
  }
  const open = new Map<string, { start: number; held: StepMessage }>();
  const ready: StepMessage[] = [];
  return {
    run(m) {
      const t = ctx.now();
      const s = open.get(m.deviceId);
      if (s && ended(s.start, t)) {
        ready.push(s.held);
        open.delete(m.deviceId);
      }
      const cur = open.get(m.deviceId);
      if (cur) cur.held = m;
      else open.set(m.deviceId, { start: t, held: m });
      return FILTERED;
    },
    held: {
      due(now) {
        for (const [d, s] of open) {
          if (!ended(s.start, now)) continue;
          ready.push(s.held);
          open.delete(d);
        }
        return ready.splice(0);
      },
      save: () => ({
        open: [...open.values()].map((s) => ({ start: s.start, held: toSaved(s.held) })),
        ready: ready.map(toSaved),
      }),
      load(state) {
        const s = savedLast.parse(state);
        for (const o of s.open) open.set(o.held.deviceId, o);
        ready.push(...s.ready);
      },
    },
  };
}
