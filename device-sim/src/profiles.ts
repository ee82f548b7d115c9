/**
 * Device profiles: what a device's readings look like and how they are spaced
 * in time. Each device gets its own seeded random generator, so a run is
 * reproducible from its seed. The average rate is always the configured one;
 * a profile only shapes it (bursts) and fills the `data` object.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';

export type Rng = () => number;

/** mulberry32: tiny, fast and good enough to make readings look alive */
export function rng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface ProfileInstance {
  /** the next reading */
  next(): Record<string, unknown>;
  /** ms until the next message, given the mean interval of the configured rate */
  delay(meanMs: number): number;
}

export interface Profile {
  name: string;
  create(r: Rng): ProfileInstance;
}

const walk = (r: Rng, v: number, step: number, min: number, max: number) =>
  Math.min(max, Math.max(min, v + (r() * 2 - 1) * step));
const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits;
const steady = (meanMs: number) => meanMs;

const environmental: Profile = {
  name: 'environmental',
  create(r) {
    let temp = 15 + r() * 10;
    let humidity = 40 + r() * 20;
    let battery = 3.0 + r() * 0.3;
    return {
      next() {
        temp = walk(r, temp, 0.2, -20, 50);
        humidity = walk(r, humidity, 0.5, 5, 100);
        battery = Math.max(2.5, battery - r() * 0.0005);
        return { temp: round(temp, 2), humidity: round(humidity, 1), battery: round(battery, 3) };
      },
      delay: steady,
    };
  },
};

/** Bursts: BURST readings 10 ms apart, then silence, so the mean rate is kept. */
const BURST = 10;
const vibration: Profile = {
  name: 'vibration',
  create(r) {
    let i = 0;
    return {
      next() {
        const peak = round(0.5 + r() * 4, 3);
        return { rms: round(peak * (0.5 + r() * 0.2), 3), peak, freqHz: Math.round(20 + r() * 480) };
      },
      delay(meanMs) {
        i = (i + 1) % BURST;
        return i === 0 ? Math.max(0, meanMs * BURST - 10 * (BURST - 1)) : 10;
      },
    };
  },
};

const gps: Profile = {
  name: 'gps',
  create(r) {
    let lat = 52.3 + r() * 0.2;
    let lon = 4.8 + r() * 0.2;
    let heading = r() * 360;
    return {
      next() {
        heading = (heading + (r() * 2 - 1) * 15 + 360) % 360;
        const speed = 5 + r() * 20;
        lat += (Math.cos((heading * Math.PI) / 180) * speed) / 111_000;
        lon += (Math.sin((heading * Math.PI) / 180) * speed) / 70_000;
        return {
          lat: round(lat, 6),
          lon: round(lon, 6),
          speed: round(speed, 1),
          heading: Math.round(heading),
        };
      },
      delay: steady,
    };
  },
};

const fieldSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('walk'),
    start: z.number().default(0),
    step: z.number().positive().default(1),
    min: z.number().default(Number.NEGATIVE_INFINITY),
    max: z.number().default(Number.POSITIVE_INFINITY),
    digits: z.number().int().min(0).max(10).default(2),
  }),
  z.strictObject({ type: z.literal('uniform'), min: z.number(), max: z.number() }),
  z.strictObject({ type: z.literal('choice'), values: z.array(z.unknown()).min(1) }),
  z.strictObject({ type: z.literal('counter'), start: z.number().int().default(0) }),
  z.strictObject({ type: z.literal('const'), value: z.unknown() }),
]);

/** A custom profile file: named fields, each a generator; optional bursts. */
export const customProfileSchema = z.strictObject({
  name: z.string().min(1).default('custom'),
  fields: z.record(z.string(), fieldSchema),
  burst: z.number().int().min(1).max(1000).default(1).describe('readings per burst, 10 ms apart'),
});

export function customProfile(spec: z.output<typeof customProfileSchema>): Profile {
  return {
    name: spec.name,
    create(r) {
      const state = new Map<string, number>();
      let i = 0;
      return {
        next() {
          const out: Record<string, unknown> = {};
          for (const [key, f] of Object.entries(spec.fields)) {
            if (f.type === 'walk') {
              const v = walk(r, state.get(key) ?? f.start, f.step, f.min, f.max);
              state.set(key, v);
              out[key] = round(v, f.digits);
            } else if (f.type === 'uniform') out[key] = f.min + r() * (f.max - f.min);
            else if (f.type === 'choice') out[key] = f.values[Math.floor(r() * f.values.length)];
            else if (f.type === 'counter') {
              const v = state.get(key) ?? f.start;
              state.set(key, v + 1);
              out[key] = v;
            } else out[key] = f.value;
          }
          return out;
        },
        delay(meanMs) {
          if (spec.burst === 1) return meanMs;
          i = (i + 1) % spec.burst;
          return i === 0 ? Math.max(0, meanMs * spec.burst - 10 * (spec.burst - 1)) : 10;
        },
      };
    },
  };
}

export const builtinProfiles: Record<string, Profile> = { environmental, vibration, gps };

/** A built-in name, or a path to a JSON/YAML custom profile. */
export function loadProfile(nameOrPath: string): Profile {
  const builtin = builtinProfiles[nameOrPath];
  if (builtin) return builtin;
  if (!/\.(ya?ml|json)$/.test(nameOrPath)) {
    throw new Error(
      `unknown profile "${nameOrPath}": use ${Object.keys(builtinProfiles).join(', ')} or a .yaml/.json file`,
    );
  }
  let text: string;
  try {
    text = readFileSync(nameOrPath, 'utf8');
  } catch (err) {
    throw new Error(`cannot read profile ${nameOrPath}: ${(err as NodeJS.ErrnoException).code}`);
  }
  const parsed = customProfileSchema.safeParse(parse(text));
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`invalid profile ${nameOrPath}:\n${issues.join('\n')}`);
  }
  return customProfile(parsed.data);
}
