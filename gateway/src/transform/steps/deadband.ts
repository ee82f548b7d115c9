/**
 * deadband: forward a message only when one of the watched fields moved more
 * than `abs` (or `percent` of the last forwarded value) since the last
 * forwarded message of that device, or when `maxInterval` passed (heartbeat).
 * State is per device, in memory (a restart forwards the next reading).
 */
import { z } from 'zod';
import { duration } from '../../config/primitives.js';
import { ms } from '../../config/units.js';
import { pathGet } from '../condition.js';
import { KEEP, type Step, type StepContext, systemContext } from '../step.js';

export const deadbandSchema = z
  .strictObject({
    type: z.literal('deadband'),
    fields: z.array(z.string().min(1)).min(1).describe('numeric fields to watch (dotted paths)'),
    abs: z.number().positive().optional().describe('forward when a field moved more than this'),
    percent: z
      .number()
      .positive()
      .optional()
      .describe('forward when a field moved more than this % of its last forwarded value'),
    maxInterval: duration.optional().describe('forward at least this often per device (heartbeat)'),
  })
  .refine((c) => c.abs !== undefined || c.percent !== undefined, { message: 'give abs or percent' });

export function createDeadband(c: z.output<typeof deadbandSchema>, ctx: StepContext = systemContext): Step {
  const paths = c.fields.map((f) => f.split('.'));
  const maxInterval = c.maxInterval === undefined ? Number.POSITIVE_INFINITY : ms(c.maxInterval);
  const last = new Map<string, { at: number; values: Array<number | undefined> }>();
  const moved = (prev: number | undefined, v: number | undefined): boolean => {
    if (v === undefined) return false;
    if (prev === undefined) return true;
    const d = Math.abs(v - prev);
    return (
      (c.abs !== undefined && d > c.abs) ||
      (c.percent !== undefined && d > (Math.abs(prev) * c.percent) / 100)
    );
  };
  return (m) => {
    const values = paths.map((p) => {
      const v = pathGet(m.value, p);
      return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
    });
    const t = ctx.now();
    const prev = last.get(m.deviceId);
    // a clock that went backwards counts as "interval passed": better one extra message than a stuck device
    const due = !prev || t - prev.at >= maxInterval || t < prev.at;
    if (due || values.some((v, i) => moved(prev.values[i], v))) {
      last.set(m.deviceId, { at: t, values });
      return KEEP;
    }
    return { keep: false, filtered: true };
  };
}
