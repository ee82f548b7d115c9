/** aggregate and downsample keep:last, table-tested with a fake clock; their saved state round-trips through CBOR. */
import { decode, encode } from 'cbor-x';
import { describe, expect, it } from 'vitest';
import type { Held, StepInstance, StepMessage } from '../../../gateway/src/transform/step.js';
import { aggregateSchema, createAggregate } from '../../../gateway/src/transform/steps/aggregate.js';
import { createDownsample, downsampleSchema } from '../../../gateway/src/transform/steps/downsample.js';

function msg(deviceId: string, value: unknown, topic = `d/${deviceId}`): StepMessage {
  return { value, topic, deviceId, params: { deviceId }, receivedAt: 0, gatewayId: 'gw', encode: 'json' };
}

/** feeds [time, device, payload] in order; `due` checks at a time; returns what came out, with when */
function drive(
  step: StepInstance,
  clock: { t: number },
  events: Array<[number, string, unknown] | [number, 'due']>,
): Array<[number, string, unknown]> {
  const out: Array<[number, string, unknown]> = [];
  for (const e of events) {
    clock.t = e[0];
    if (e[1] === 'due') {
      for (const m of step.held!.due(clock.t)) out.push([clock.t, m.deviceId, m.value]);
    } else {
      expect(step.run(msg(e[1], e[2]))).toEqual({ keep: false, filtered: true });
    }
  }
  return out;
}

const agg = (extra: Record<string, unknown>, clock: { t: number }) =>
  createAggregate(aggregateSchema.parse({ type: 'aggregate', window: '1m', fields: ['t'], ...extra }), {
    now: () => clock.t,
  });

describe('aggregate', () => {
  it.each<[string, Record<string, unknown>, Array<[number, string, unknown] | [number, 'due']>, unknown[]]>([
    [
      'count, min, max, mean, last per clock-aligned window, sent when the timer finds it closed',
      {},
      [
        [60_000, 'a', { t: 2 }],
        [61_000, 'a', { t: 4 }],
        [119_999, 'a', { t: 3 }],
        [119_999, 'due'],
        [120_000, 'due'],
      ],
      [
        [
          120_000,
          'a',
          {
            windowStart: 60_000,
            windowEnd: 120_000,
            count: 3,
            t: { count: 3, min: 2, max: 4, mean: 3, last: 3 },
          },
        ],
      ],
    ],
    [
      'the next message after the end closes the window too, and starts the next one',
      { ops: ['max'] },
      [
        [0, 'a', { t: 1 }],
        [60_500, 'a', { t: 7 }],
        [60_600, 'due'],
        [120_000, 'due'],
      ],
      [
        [60_600, 'a', { windowStart: 0, windowEnd: 60_000, count: 1, t: { max: 1 } }],
        [120_000, 'a', { windowStart: 60_000, windowEnd: 120_000, count: 1, t: { max: 7 } }],
      ],
    ],
    [
      'missing fields, wrong types, NaN and Infinity are left out of the field but counted as messages',
      { ops: ['count', 'mean'] },
      [
        [0, 'a', { t: 1 }],
        [1, 'a', {}],
        [2, 'a', { t: '5' }],
        [3, 'a', { t: Number.NaN }],
        [4, 'a', { t: Number.POSITIVE_INFINITY }],
        [5, 'a', 'not an object'],
        [6, 'a', { t: 3 }],
        [60_000, 'due'],
      ],
      [[60_000, 'a', { windowStart: 0, windowEnd: 60_000, count: 7, t: { count: 2, mean: 2 } }]],
    ],
    [
      'a field never seen gives count 0 and nothing else',
      {},
      [
        [0, 'a', { u: 1 }],
        [60_000, 'due'],
      ],
      [[60_000, 'a', { windowStart: 0, windowEnd: 60_000, count: 1, t: { count: 0 } }]],
    ],
    [
      'nested fields and several devices, each with its own window',
      { fields: ['env.t'], ops: ['last'] },
      [
        [0, 'a', { env: { t: 1 } }],
        [30_000, 'b', { env: { t: 5 } }],
        [59_000, 'a', { env: { t: 2 } }],
        [60_000, 'due'],
      ],
      [
        [60_000, 'a', { windowStart: 0, windowEnd: 60_000, count: 2, 'env.t': { last: 2 } }],
        [60_000, 'b', { windowStart: 0, windowEnd: 60_000, count: 1, 'env.t': { last: 5 } }],
      ],
    ],
    [
      'a clock going backwards closes the open window early instead of leaving it open',
      { ops: ['count'] },
      [
        [600_000, 'a', { t: 1 }],
        [30_000, 'a', { t: 2 }],
        [30_001, 'due'],
        [59_999, 'due'],
        [60_000, 'due'],
      ],
      [
        [30_001, 'a', { windowStart: 600_000, windowEnd: 660_000, count: 1, t: { count: 1 } }],
        [60_000, 'a', { windowStart: 0, windowEnd: 60_000, count: 1, t: { count: 1 } }],
      ],
    ],
  ])('%s', (_name, extra, events, want) => {
    const clock = { t: 0 };
    expect(drive(agg(extra, clock), clock, events)).toEqual(want);
  });

  it('saves open and closed-but-unsent windows, and a new instance loaded from them carries on', () => {
    const clock = { t: 0 };
    const a = agg({ ops: ['count', 'max'] }, clock);
    drive(a, clock, [
      [0, 'x', { t: 1 }],
      [60_001, 'y', { t: 9 }],
      [60_002, 'x', { t: 4 }], // closes x's first window (not yet sent)
    ]);
    const saved = decode(encode(a.held!.save())) as unknown;
    const b = agg({ ops: ['count', 'max'] }, clock);
    b.held!.load(saved);
    const out = drive(b, clock, [
      [61_000, 'x', { t: 2 }],
      [120_000, 'due'],
    ]);
    expect(out).toEqual([
      [120_000, 'x', { windowStart: 0, windowEnd: 60_000, count: 1, t: { count: 1, max: 1 } }],
      [120_000, 'x', { windowStart: 60_000, windowEnd: 120_000, count: 2, t: { count: 2, max: 4 } }],
      [120_000, 'y', { windowStart: 60_000, windowEnd: 120_000, count: 1, t: { count: 1, max: 9 } }],
    ]);
  });

  it('refuses a saved state that does not fit, and refuses a zero window in the config', () => {
    const clock = { t: 0 };
    expect(() => agg({}, clock).held!.load({ open: [{ start: 'x' }], ready: [] })).toThrow();
    expect(aggregateSchema.safeParse({ type: 'aggregate', window: 0, fields: ['t'] }).success).toBe(false);
  });
});

describe('downsample keep: last', () => {
  const last = (clock: { t: number }) =>
    createDownsample(downsampleSchema.parse({ type: 'downsample', interval: '1s', keep: 'last' }), {
      now: () => clock.t,
    });
  it.each<[string, Array<[number, string, unknown] | [number, 'due']>, unknown[]]>([
    [
      'sends the newest message of each interval when it ends',
      [
        [0, 'a', { n: 1 }],
        [400, 'a', { n: 2 }],
        [999, 'due'],
        [1000, 'due'],
        [1500, 'a', { n: 3 }],
        [2500, 'due'],
      ],
      [
        [1000, 'a', { n: 2 }],
        [2500, 'a', { n: 3 }],
      ],
    ],
    [
      'per device, and a message after the end sends the held one and starts a new interval',
      [
        [0, 'a', { n: 1 }],
        [10, 'b', { n: 1 }],
        [1200, 'a', { n: 2 }],
        [1200, 'due'],
        [2200, 'due'],
      ],
      [
        [1200, 'a', { n: 1 }],
        [1200, 'b', { n: 1 }],
        [2200, 'a', { n: 2 }],
      ],
    ],
    [
      'a clock going backwards ends the interval',
      [
        [5000, 'a', { n: 1 }],
        [100, 'due'],
      ],
      [[100, 'a', { n: 1 }]],
    ],
  ])('%s', (_name, events, want) => {
    const clock = { t: 0 };
    expect(drive(last(clock), clock, events)).toEqual(want);
  });

  it('holds its messages across a save and load, with the envelope', () => {
    const clock = { t: 0 };
    const a = last(clock);
    a.run(msg('a', { raw: Buffer.from([1, 2]) }, 'd/a/x'));
    const b = last(clock);
    (b.held as Held).load(decode(encode(a.held!.save())));
    const [m] = b.held!.due(1000);
    expect(m).toEqual({ ...msg('a', { raw: Buffer.from([1, 2]) }, 'd/a/x') });
  });
});
