/**
 * What a fleet of simulated devices does. One schema serves the command line
 * (`tidegate-sim run`) and the `devices:` block of a scenario file, so both
 * accept the same names with the same defaults.
 */
import { z } from 'zod';

/** milliseconds, or a number with a unit: 500ms, 30s, 5m, 1h */
export function parseDuration(v: string | number, what = 'duration'): number {
  if (typeof v === 'number') return v;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v.trim());
  if (!m) throw new Error(`${what}: expected a duration like 500ms, 30s, 5m (got "${v}")`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? 'ms']!;
  return Math.round(Number(m[1]) * unit);
}

const duration = z.union([z.number().nonnegative(), z.string()]).transform((v, ctx) => {
  try {
    return parseDuration(v);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});

export const fleetSchema = z
  .strictObject({
    url: z.string().default('mqtt://127.0.0.1:1883').describe('broker (the gateway) to connect to'),
    devices: z.number().int().min(1).max(100_000).default(10),
    idPrefix: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,40}$/)
      .default('sim')
      .describe('device ids are <idPrefix>-<n>; also the MQTT client ids'),
    username: z.string().optional().describe('MQTT username; {device} is replaced by the device id'),
    password: z.string().optional(),
    profile: z.string().default('environmental').describe('environmental, vibration, gps, or a file'),
    rate: z.number().positive().optional().describe('messages per second per device (default 1)'),
    totalRate: z.number().positive().optional().describe('messages per second over all devices'),
    jitter: z.number().min(0).max(1).default(0.1).describe('random spread of each interval, as a fraction'),
    qos: z.union([z.literal(0), z.literal(1), z.literal(2)]).default(1),
    encoding: z.enum(['json', 'cbor']).default('json'),
    payloadSize: z.number().int().min(0).max(1_000_000).default(0).describe('pad payloads to this size'),
    topic: z.string().default('devices/{device}/telemetry').describe('{device}, {profile}, {index}'),
    duration: duration.optional().describe('how long devices publish (default 10s unless count is set)'),
    count: z.number().int().min(1).optional().describe('messages per device, then stop'),
    rampUp: duration.default(0).describe('spread the connects over this time'),
    churn: duration.default(0).describe('reconnect each device about this often (0 = never)'),
    bufferOffline: z.boolean().default(false).describe('keep readings while offline, send them on reconnect'),
    bufferMax: z.number().int().min(1).default(10_000).describe('most buffered readings per device'),
    ackWait: duration.default(15_000).describe('after the last publish, wait this long for acks'),
    reconnectPeriod: duration.default(500),
    seed: z.number().int().default(1),
    run: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/)
      .optional()
      .describe('run id written into every payload (default: a new one)'),
  })
  .refine((o) => !(o.rate && o.totalRate), { message: 'give rate or totalRate, not both' });

export type FleetInput = z.input<typeof fleetSchema>;
export type FleetConfig = z.output<typeof fleetSchema> & { run: string };

export function newRunId(): string {
  const t = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  return `${t}-${Math.random().toString(36).slice(2, 8)}`;
}

export function parseFleet(input: unknown, where = 'devices'): FleetConfig {
  const r = fleetSchema.safeParse(input);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `  ${[where, ...i.path].join('.')}: ${i.message}`);
    throw new Error(`invalid options:\n${lines.join('\n')}`);
  }
  return { ...r.data, run: r.data.run ?? newRunId() };
}

/** mean interval between two messages of one device, ms */
export function meanIntervalMs(c: FleetConfig): number {
  const perDevice = c.totalRate ? c.totalRate / c.devices : (c.rate ?? 1);
  return 1000 / perDevice;
}

export function deviceId(c: Pick<FleetConfig, 'idPrefix'>, index: number): string {
  return `${c.idPrefix}-${String(index).padStart(5, '0')}`;
}
