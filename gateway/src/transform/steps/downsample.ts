/**
 * downsample: at most one message per device per interval; the first one of
 * each interval goes through, the rest are counted as filtered. (Keeping the
 * last one of each interval needs a timer that emits later; not built yet.)
 */
import { z } from 'zod';
import { duration } from '../../config/primitives.js';
import { ms } from '../../config/units.js';
import { KEEP, type Step } from '../step.js';

export const downsampleSchema = z.strictObject({
  type: z.literal('downsample'),
  interval: duration.describe('at most one message per device per interval'),
  keep: z.literal('first').default('first'),
});

export function createDownsample(c: z.output<typeof downsampleSchema>, now: () => number = Date.now): Step {
  const interval = ms(c.interval);
  const last = new Map<string, number>();
  return (m) => {
    const t = now();
    const prev = last.get(m.deviceId);
    if (prev === undefined || t - prev >= interval || t < prev) {
      last.set(m.deviceId, t);
      return KEEP;
    }
    return { keep: false, filtered: true };
  };
}
